from django.conf import settings
from django.db import models
from django.db.models import Q

from instances.models import HabitInstance


class TelegramProfile(models.Model):
    """A Telegram account bound to a user: identity is the id Telegram gives the sender."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="telegram"
    )
    telegram_id = models.BigIntegerField(unique=True)
    # Lets the bot address the user without asking Telegram who they are first.
    access_hash = models.BigIntegerField(default=0)
    username = models.CharField(max_length=64, blank=True, default="")
    bound_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.username or self.telegram_id} -> {self.user_id}"


class BindCode(models.Model):
    """The one live bind code of a user, stored only as a hash; single use, short-lived."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    code_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"bind code of {self.user_id} until {self.expires_at:%H:%M}"


class OutboxKind(models.TextChoices):
    REMINDER = "reminder"  # the instance became pending
    MISSED = "missed"  # grace passed: "fix it until HH:MM"
    SNOOZE = "snooze"  # one more reminder the owner asked for (SPEC §8), due at `remind_at`
    DONE = "done"  # completed elsewhere: edit the earlier message to say so
    SKIPPED = "skipped"  # skipped (or paused) anywhere: edit the earlier message to say so
    FINISHED = "finished"  # the habit's course is over: the result (its `text`)
    CUE = "cue"  # its cue habit was done: "After <cue action>: <action> at <place>" (`text`)
    NOTICE = "notice"  # about the account, not the instance (a webhook switched off): `text`


# The messages that ask for the instance to be done: they carry the Done and Skip buttons,
# and an outcome (done, skipped) gives them up unsent or edits them once sent; quiet hours
# hold them back (SPEC §8).
REMINDER_KINDS = (OutboxKind.REMINDER, OutboxKind.MISSED, OutboxKind.SNOOZE, OutboxKind.CUE)


class OutboxMessage(models.Model):
    """A message the bot owes a user. Written in the transaction that decided it, sent by the
    bot process, retried after FloodWait or a network error, never sent twice."""

    kind = models.CharField(max_length=16, choices=OutboxKind.choices)
    instance = models.ForeignKey(HabitInstance, on_delete=models.CASCADE, related_name="+")
    telegram_id = models.BigIntegerField()
    access_hash = models.BigIntegerField(default=0)
    # For DONE and SKIPPED: the message to edit (a REMINDER or MISSED one that was sent).
    edits = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # Decided when the message was owed (FINISHED: the result then); empty: the text is
    # built at send time from the instance as it is.
    text = models.CharField(max_length=255, blank=True, default="", db_default="")
    # For REMINDER: the habit's reminder offset it is for, minutes from `scheduled_at`.
    offset_minutes = models.SmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    message_id = models.BigIntegerField(null=True, blank=True)
    given_up_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(sent_at__isnull=True, given_up_at__isnull=True),
                name="outbox_due",
            ),
            models.Index(fields=["instance"], name="outbox_by_instance"),
            # A reply in the chat names the message it answers: which instance it is about.
            models.Index(
                fields=["telegram_id", "message_id"],
                condition=Q(message_id__isnull=False),
                name="outbox_by_message",
            ),
        ]
        constraints = [
            # At most once per (instance, offset), and one cue reminder per instance, however
            # many decisions overlap and however often a completion is retried.
            models.UniqueConstraint(
                fields=["instance", "offset_minutes"],
                condition=Q(kind="reminder"),
                name="outbox_one_reminder_per_offset",
            ),
            models.UniqueConstraint(
                fields=["instance"], condition=Q(kind="cue"), name="outbox_one_cue_per_instance"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.instance_id}"
