"""promptgen: verified data-preparation scripts for fine-tuning with XTuner."""

__version__ = "0.1.0"
