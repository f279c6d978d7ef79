"""Model providers: each turns chat messages into candidate replies."""
