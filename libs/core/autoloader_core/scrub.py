"""One scrubber for every text that leaves a process: error messages, ledger reasons, run
messages, log lines, API responses. It removes the secret part of what storage clients put in
their errors (a SAS token's signature, an S3 presigned URL's credential, an account key in a
connection string, an OAuth token, a private key) and keeps the rest readable."""

from __future__ import annotations

import logging
import re

HIDDEN = "***"

_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # PEM private keys (a service account's JSON, quoted with \n or with real newlines).
    (
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
        f"-----{HIDDEN} PRIVATE KEY-----",
    ),
    # Query parameters that sign or authorise a URL: Azure SAS, S3 presigned, GCS signed URLs.
    (
        re.compile(
            r"(?i)([?&;](?:sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token"
            r"|awsaccesskeyid|x-goog-signature|x-goog-credential|googleaccessid|access_token"
            r"|token|code|client_secret|key)=)[^&;\s'\"<>)]+"
        ),
        rf"\1{HIDDEN}",
    ),
    # Connection-string and key=value secrets: AccountKey=…;SharedAccessSignature=…;Password=…
    (
        re.compile(
            r"(?i)\b(AccountKey|SharedAccessSignature|SharedAccessKey|Password|pwd"
            r"|aws_secret_access_key|aws_session_token|secret_access_key|sas_token"
            r"|client_secret|refresh_token|private_key_id)(\s*[=:]\s*['\"]?)[^;'\"\s,}&]+"
        ),
        rf"\1\2{HIDDEN}",
    ),
    # JSON fields: "private_key": "…", "token": "…", "secret": "…"
    (
        re.compile(
            r"(?i)([\"'](?:private_key|private_key_id|access_token|refresh_token|client_secret|token|secret"
            r"|sas_token|account_key|secret_key|password)[\"']\s*:\s*[\"'])[^\"']*"
        ),
        rf"\1{HIDDEN}",
    ),
    # Authorization headers: Bearer, Basic, SharedKey account:signature, AWS4 signatures.
    (
        re.compile(r"(?i)\b(Bearer|Basic|SharedKey|SharedKeyLite)\s+[A-Za-z0-9._~+/:=-]{8,}"),
        rf"\1 {HIDDEN}",
    ),
    (re.compile(r"(?i)(Signature=)[0-9a-f]{16,}"), rf"\1{HIDDEN}"),
    # Google OAuth access tokens and AWS access key ids wherever they appear.
    (re.compile(r"\bya29\.[0-9A-Za-z_\-.]+"), f"ya29.{HIDDEN}"),
    (re.compile(r"\b((?:AKIA|ASIA)[A-Z0-9]{4})[A-Z0-9]{12}\b"), rf"\1{HIDDEN}"),
    # user:password@ in a URL.
    (re.compile(r"([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@"), rf"\1{HIDDEN}@"),
)


def scrub(text: str) -> str:
    """`text` with every secret it holds replaced by ***."""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


class ScrubFilter(logging.Filter):
    """Scrubs a log record's message and traceback before any handler writes or ships it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = scrub(message), ()
        if record.exc_info:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def scrub_handlers(*logger_names: str) -> None:
    """Adds the scrubbing filter to every handler of these loggers (and the root's), once."""
    for name in (*logger_names, ""):
        for handler in logging.getLogger(name or None).handlers:
            if not any(isinstance(f, ScrubFilter) for f in handler.filters):
                handler.addFilter(ScrubFilter())
