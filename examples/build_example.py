"""Build examples/drugqa-sample.xlsx, the small workbook the README's first command runs on.

It has the layout of the Medication QA workbooks people fine-tune on (sheet
"DrugQA", a header row, columns Question, Focus (Drug), Question Type, Answer,
Section Title, URL) and the quirks that break naive scripts: answers with
newlines, cells with stray spaces, a repeated question, a row with no answer,
and Chinese text. The rows are written for this project.

Run: python examples/build_example.py
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

from openpyxl import Workbook

HEADER = ("Question", "Focus (Drug)", "Question Type", "Answer", "Section Title", "URL")
SOURCE = "https://example.org/drug-leaflets"

ROWS: list[tuple[str | None, ...]] = [
    ("How should I store insulin that I have not opened yet?", "Insulin", "storage and disposal",
     "Keep unopened insulin in the refrigerator, between 2 and 8 °C.\nDo not freeze it, and do not use insulin that has been frozen.",
     "Storage", SOURCE),
    ("Can I take ibuprofen with food?", "Ibuprofen", "usage",
     "Yes. Taking ibuprofen with food or milk can reduce stomach upset.", "How to take", SOURCE),
    ("What is amoxicillin used for?", "Amoxicillin", "indication",
     "Amoxicillin is a penicillin antibiotic used to treat bacterial infections such as ear, throat and urinary tract infections.\nIt does not work against viral infections such as colds or flu.",
     "Uses", SOURCE),
    ("  How long does it take for sertraline to work?", "Sertraline", "time to effect",
     "Some people notice improvement within 1 to 2 weeks, but the full effect usually takes 4 to 6 weeks.  ",
     "What to expect", SOURCE),
    ("Is it safe to drink alcohol while taking metronidazole?", "Metronidazole", "interaction",
     "No. Avoid alcohol during treatment and for at least 3 days afterwards, because the combination can cause nausea, vomiting and flushing.",
     "Interactions", SOURCE),
    ("What should I do if I miss a dose of warfarin?", "Warfarin", "missed dose",
     "Take it as soon as you remember on the same day.\nDo not take two doses on the next day to make up for a missed one.\nTell your anticoagulation clinic at your next check.",
     "Missed dose", SOURCE),
    ("What is amoxicillin used for?", "Amoxicillin", "indication",
     "It treats infections caused by bacteria, for example some chest infections and dental abscesses.",
     "Uses", SOURCE),
    ("Can metformin cause stomach problems?", "Metformin", "side effects",
     "Yes. Nausea, diarrhoea and stomach pain are common when starting metformin.\nTaking it with meals and increasing the dose slowly can help.",
     "Side effects", SOURCE),
    ("How do I use a salbutamol inhaler?", "Salbutamol", "usage",
     "Shake the inhaler, breathe out fully, seal your lips around the mouthpiece, press once while breathing in slowly, then hold your breath for about 10 seconds.",
     "How to use", SOURCE),
    ("Does omeprazole interact with clopidogrel?", "Omeprazole", "interaction", None, "Interactions", SOURCE),
    ("What is the maximum daily dose of paracetamol for adults?", "Paracetamol", "dose",
     "For most adults it is 4 grams in 24 hours, taken as no more than 1 gram every 4 to 6 hours.\nLower limits apply to people with liver problems or low body weight.",
     "Dosage", SOURCE),
    ("Can I stop taking atorvastatin if my cholesterol is normal?", "Atorvastatin", "usage",
     "Do not stop without talking to your doctor. Normal cholesterol on treatment usually means the medicine is working.",
     "Stopping treatment", SOURCE),
    ("Why does lisinopril cause a cough?", "Lisinopril", "side effects",
     "ACE inhibitors such as lisinopril raise bradykinin levels in the airways, which can cause a dry, persistent cough.",
     "Side effects", SOURCE),
    ("阿莫西林可以和牛奶一起服用吗？", "阿莫西林", "usage",
     "可以。阿莫西林可以随餐或空腹服用，牛奶一般不影响其吸收。", "服用方法", SOURCE),
    ("布洛芬和对乙酰氨基酚有什么区别？", "布洛芬", "comparison",
     "布洛芬是非甾体抗炎药，能退烧、止痛并减轻炎症；\n对乙酰氨基酚能退烧和止痛，但几乎没有抗炎作用。",
     "比较", SOURCE),
    ("Should levothyroxine be taken on an empty stomach?", "Levothyroxine", "usage",
     "Yes. Take it with water 30 to 60 minutes before breakfast, because food and some supplements reduce its absorption.",
     "How to take", SOURCE),
    ("Can prednisone raise blood sugar?", "Prednisone", "side effects",
     "Yes. Corticosteroids such as prednisone can raise blood sugar, especially at higher doses. People with diabetes may need closer monitoring.",
     "Side effects", SOURCE),
    ("How should I dispose of unused tablets?", "General", "storage and disposal",
     "Return them to a pharmacy take-back service. Do not flush them down the toilet unless the label says to.",
     "Disposal", SOURCE),
    ("Is cetirizine likely to make me drowsy?", "Cetirizine", "side effects",
     "Cetirizine causes less drowsiness than older antihistamines, but some people still feel sleepy.\nAvoid driving until you know how it affects you.",
     "Side effects", SOURCE),
    ("What is the difference between a generic and a brand-name medicine?", "General", "information",
     "A generic contains the same active ingredient at the same strength as the brand-name medicine, and must work in the same way.",
     "General information", SOURCE),
]


def build(path: Path) -> None:
    """Write the example workbook to ``path`` with fixed document times, so rebuilding changes nothing that matters."""
    workbook = Workbook()
    notes = workbook.active
    notes.title = "Notes"
    notes["A1"] = "Example rows written for promptgen; not medical advice."
    sheet = workbook.create_sheet("DrugQA")
    sheet.append(HEADER)
    for row in ROWS:
        sheet.append(row)
    workbook.active = 1
    fixed = datetime.datetime(2026, 1, 1)
    workbook.properties.created = fixed
    workbook.properties.modified = fixed
    workbook.save(path)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("drugqa-sample.xlsx")
    build(target)
    print(f"wrote {target}")
