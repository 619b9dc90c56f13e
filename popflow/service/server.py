"""Running the service with Uvicorn, with logs that never hold a token.

Uvicorn's access log records the client, request line and status only — never
headers, so never ``Authorization``. As a second guard, a filter drops query
strings from request lines and masks anything shaped like a popflow token in
every record of the service's loggers.
"""

from __future__ import annotations

import logging
import re

import uvicorn

from popflow.service.app import create_app
from popflow.service.config import ServiceConfig
from popflow.service.tokens import PREFIX

_TOKEN_TEXT = re.compile(re.escape(PREFIX) + r"[A-Za-z0-9_\-]+")
_QUERY = re.compile(r"\?[^\s\"]*")


def redact(text: str) -> str:
    """``text`` with query strings and token-shaped words masked."""
    return _TOKEN_TEXT.sub(PREFIX + "[redacted]", _QUERY.sub("?[query omitted]", text))


class RedactTokens(logging.Filter):
    """Masks tokens (and drops query strings) in a log record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def log_config() -> dict:
    """Uvicorn's logging: default formats plus the redacting filter on every handler."""
    config = {
        "version": 1, "disable_existing_loggers": False,
        "filters": {"redact": {"()": RedactTokens}},
        "formatters": {
            "default": {"()": "uvicorn.logging.DefaultFormatter", "fmt": "%(levelprefix)s %(message)s"},
            "access": {"()": "uvicorn.logging.AccessFormatter",
                       "fmt": '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s'},
        },
        "handlers": {
            "default": {"class": "logging.StreamHandler", "formatter": "default", "stream": "ext://sys.stderr",
                        "filters": ["redact"]},
            "access": {"class": "logging.StreamHandler", "formatter": "access", "stream": "ext://sys.stderr",
                       "filters": ["redact"]},
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
            "popflow.service": {"handlers": ["default"], "level": "INFO", "propagate": False},
        },
    }
    return config


def serve(workspace, host: str = "127.0.0.1", port: int = 8000, config: ServiceConfig | None = None,
          access_log: bool = True) -> None:
    """Serve the workspace until interrupted."""
    app = create_app(workspace, config)
    uvicorn.run(app, host=host, port=port, log_config=log_config(), access_log=access_log,
                server_header=False, proxy_headers=False, timeout_graceful_shutdown=5)
