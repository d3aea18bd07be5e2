"""What happens to a user, as recorded through `core.events.record` (none is a socket frame;
the reactions are in config/reactions.py)."""

# Every earlier token fails (password, deactivation, logout-all). Facts: user_id, version.
USER_TOKENS_ENDED = "user.tokens_ended"
# The user's timezone moved. Facts: user_id.
USER_TIMEZONE_CHANGED = "user.timezone_changed"
# Edited or deleted by hand (the admin), or its quiet hours changed: what the token state and
# `me` caches hold may be stale. Facts: user_id.
USER_CHANGED = "user.changed"
# A personal token was revoked: its cached state goes, in every process. Facts: user_id,
# token_id, token_hash (the SHA-256 the cache is keyed by, never the secret).
PERSONAL_TOKEN_REVOKED = "token.revoked"
