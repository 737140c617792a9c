"""Who may open which workspace, for shared deployments with login turned on.

Local use needs none of this: without login the app opens the one workspace at
``SEGSTUDIO_HOME``. With login (Streamlit's ``st.login``, OIDC, configured in ``[auth]`` of
``.streamlit/secrets.toml``) every user signs in, and the ``[segstudio.access]`` table says which
workspaces each e-mail address may open::

    [segstudio.access]
    marketing = ["ana@shop.example", "*@growth.shop.example"]
    finance   = ["bob@shop.example"]

Workspace ``marketing`` lives in ``$SEGSTUDIO_HOME/workspaces/marketing``: its own datasets,
runs and catalog, so nothing crosses from one workspace to another. An address matches an entry
exactly (case-insensitive) or by domain (``*@domain``); nobody matches by default, and login
without an access table lets nobody in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,40}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_DOMAIN = re.compile(r"\*@[^@\s*]+\.[^@\s*]+")


class AccessConfigError(ValueError):
    """The access table in the secrets is malformed (the message names the entry)."""


@dataclass(frozen=True)
class AccessPolicy:
    workspaces: Mapping[str, tuple[str, ...]]  # workspace name -> e-mail patterns

    @classmethod
    def from_mapping(cls, table: Mapping | None, where: str = "[segstudio.access]") -> AccessPolicy:
        if table is None:
            return cls({})
        if not isinstance(table, Mapping):
            raise AccessConfigError(f"{where} must be a table of workspace = [e-mail addresses]")
        out: dict[str, tuple[str, ...]] = {}
        for name, patterns in table.items():
            if not isinstance(name, str) or not _NAME.fullmatch(name):
                raise AccessConfigError(
                    f"{where}: workspace name {name!r} must be lower-case letters, digits, '-' "
                    "or '_' (at most 41 characters), e.g. marketing"
                )
            if isinstance(patterns, str) or not isinstance(patterns, list | tuple):
                raise AccessConfigError(
                    f"{where}.{name} must be a list of e-mail addresses, e.g. "
                    '["ana@shop.example", "*@shop.example"]'
                )
            cleaned = []
            for p in patterns:
                p = str(p).strip().lower()
                if not (_EMAIL.fullmatch(p) or _DOMAIN.fullmatch(p)):
                    raise AccessConfigError(
                        f"{where}.{name}: {p!r} is neither an e-mail address nor *@domain"
                    )
                cleaned.append(p)
            out[name] = tuple(cleaned)
        return cls(out)

    def allowed(self, email: str | None) -> list[str]:
        """The workspaces `email` may open, in the order the table lists them."""
        if not email or not _EMAIL.fullmatch(email.strip().lower()):
            return []
        email = email.strip().lower()
        domain = "*@" + email.rsplit("@", 1)[1]
        return [name for name, pats in self.workspaces.items() if email in pats or domain in pats]


def workspace_root(home: str | Path, name: str) -> Path:
    """Where workspace `name` of a deployment lives."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"invalid workspace name {name!r}")
    return Path(home) / "workspaces" / name
