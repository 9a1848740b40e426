"""The append-only ledger: a hash chain per case, and a checkpoint chain that seals the heads.

Rows are only ever inserted. Each case's events chain by SHA-256 so that writers of different cases
never wait for each other; checkpoints chain by SHA-256 too and name the head of every case chain
that moved since the previous checkpoint, so together they seal every head.
"""

import uuid

from django.db import models
from django.utils import timezone


class SubjectKey(models.Model):
    """The key of one data subject. Personal data in ledger events is encrypted with it; destroying
    the key (crypto-shredding) erases that data everywhere while the chains still verify."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    key = models.BinaryField(null=True)
    created_at = models.DateTimeField(default=timezone.now)
    shredded_at = models.DateTimeField(null=True, blank=True)


class LedgerEvent(models.Model):
    # Not indexed alone: the unique (complaint, seq) constraint's index leads with it (migration 0005).
    complaint = models.ForeignKey(
        "complaints.Complaint", on_delete=models.PROTECT, related_name="ledger_events", db_index=False
    )
    seq = models.PositiveIntegerField()
    action = models.CharField(max_length=50)
    # "staff:<user id>", "consumer", or "system"; the label is kept for display.
    actor = models.CharField(max_length=50)
    actor_label = models.CharField(max_length=150, blank=True)
    # {field: [before, after]}; personal fields hold {"enc": ..., "k": subject key} instead of text.
    changes = models.JSONField(default=dict)
    # Other facts of the event (reason, note, target state); encrypted the same way where personal.
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["complaint", "seq"], name="ledger_event_case_seq")]
        # (complaint, seq) is the unique constraint's index; a second one on the same columns cost every
        # event an index write for nothing (migration 0005).
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.complaint_id}#{self.seq} {self.action}"


class Checkpoint(models.Model):
    seq = models.PositiveIntegerField(unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Every event with id <= last_event_id is covered by this checkpoint or an earlier one.
    last_event_id = models.BigIntegerField()
    # [[complaint id, head seq, head hash], ...] for the cases whose chain moved since the last one.
    heads = models.JSONField(default=list)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"checkpoint {self.seq} {self.hash[:12]}"


class SealedHead(models.Model):
    """The last sequence of each case chain that a checkpoint has sealed."""

    complaint = models.OneToOneField("complaints.Complaint", on_delete=models.PROTECT, primary_key=True)
    seq = models.PositiveIntegerField()


class DailyDigest(models.Model):
    """The digest of one day as the daily job exported and mailed it (ledger.digests.send_daily): the
    record that makes the job run once a day, and that says where the digest went."""

    day = models.DateField(unique=True)  # the organisation's local date the digest was taken on
    checkpoint_seq = models.PositiveIntegerField()
    hash = models.CharField(max_length=64)
    checkpoint_at = models.DateTimeField(null=True)
    last_event_id = models.BigIntegerField(null=True)
    events = models.BigIntegerField()
    side_chains = models.JSONField(default=dict)  # ledger.verify.SIDE_CHAINS: each one's head {seq, hash}
    taken_at = models.DateTimeField()
    path = models.CharField(max_length=500, blank=True)  # the file it was exported to
    mailed_to = models.JSONField(default=list)
    mailed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # A worker exporting or mailing it holds it until then, so that two workers never mail it twice.
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"digest {self.day} checkpoint {self.checkpoint_seq} {self.hash[:12]}"
