"""Regenerate the bundled PDF of the corpus (committed; rerun only when its text changes).

    uv run python scripts/make_corpus_pdf.py
"""

from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

PAGES = [
    ("Storage platform: persistent volumes", [
        "Stateful workloads use the gp3 storage class by default, with 3000 IOPS and",
        "125 MiB/s of throughput included. Volumes are created by the EBS CSI driver and are",
        "bound to one availability zone, so a pod whose volume lives in eu-west-1a can only",
        "be scheduled on nodes in eu-west-1a. A pod stuck in Pending with the event",
        "'volume node affinity conflict' means no node in that zone has room.",
        "Volume snapshots are taken every 6 hours by the snapshot controller and kept for",
        "7 days.",
    ]),
    ("Storage platform: resizing and object storage", [
        "To grow a volume, edit the storage request of the PersistentVolumeClaim; the CSI",
        "driver expands the file system online. Shrinking a volume is not supported: create a",
        "new claim and copy the data. Object storage buckets are created only through the",
        "Terraform module helios-bucket, which enforces versioning, KMS encryption and a",
        "lifecycle rule that moves objects to infrequent access after 30 days.",
    ]),
]


def main() -> None:
    out = Path(__file__).resolve().parents[1] / "src/ragkit/data/corpus/services/storage.pdf"
    pdf = canvas.Canvas(str(out), pagesize=A4, invariant=1)
    pdf.setTitle("Storage platform")
    for title, lines in PAGES:
        pdf.setFont("Helvetica-Bold", 14)
        pdf.drawString(60, 780, title)
        pdf.setFont("Helvetica", 11)
        for i, line in enumerate(lines):
            pdf.drawString(60, 750 - 16 * i, line)
        pdf.showPage()
    pdf.save()
    print(out)


if __name__ == "__main__":
    main()
