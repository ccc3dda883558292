"""Reports and reminders by mail: self-contained messages and one careful SMTP send.

A report message is the rendered HTML inline (scripts removed, figures carried as
inline image parts, so opening it asks nothing of the network), a plain-text part
with the report's summary sentences, and the notebook attached. The SMTP password
comes only from the SMTP_PASSWORD environment variable. A report is mailed to
each recipient once per version: the last HTML mailed (its SHA-256) and the
recipients who got it are recorded in the output directory (written before the send,
so a folder that cannot take the record mails nobody), so a cron job mails once per
change, and after a failed or partly refused send the re-run mails only those who did
not get it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import ipaddress
import json
import os
import re
import smtplib
import socket
import ssl
import sys
import threading
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid
from pathlib import Path
from typing import Any

from review.errors import ConfigError, ReviewError
from review.settings.sections import Mail, is_address

PASSWORD_ENV = "SMTP_PASSWORD"
STATE_FILE = ".mail-state.json"
_CELL_ID = re.compile(rb'\sid="cell-id=[^"]*"')
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.IGNORECASE | re.DOTALL)
_DATA_IMAGE = re.compile(r"""src=(["'])data:image/(png|jpeg|gif|svg\+xml);base64,([^"']+)\1""")
_REMOTE = re.compile(
    r"""(?:\bsrc\s*=\s*["']?\s*(?:https?:)?//|<link\b[^>]*\bhref\s*=\s*["']?\s*(?:https?:)?//|"""
    r"""url\(\s*["']?\s*(?:https?:)?//|@import\s+["']?(?:https?:)?//)""",
    re.IGNORECASE,
)


class MailError(ReviewError):
    """The message could not be sent; says to whom, through which server and why.

    ``accepted``: the recipients that got it all the same (the server refused only some).
    """

    def __init__(self, message: str, accepted: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.accepted = tuple(accepted)


def recipients(given: Sequence[str], mail: Mail) -> list[str]:
    """--mail-to addresses, else [mail] to; each must be a plain address."""
    chosen = list(given) or list(mail.to)
    bad = [a for a in chosen if not is_address(a)]
    if bad:
        raise ReviewError(f"--mail-to {bad[0]!r} is not an email address like ops@example.edu")
    return chosen


def check_sender(mail: Mail) -> None:
    """Mail needs a From address: [mail] from."""
    if not mail.sender:
        raise ConfigError(
            "set [mail] from to the address reports are sent from (e.g. ops-reports@example.edu)",
            key="mail.from",
        )


def inline_html(html: str) -> tuple[str, list[tuple[str, str, bytes]]]:
    """The HTML for a mail body: scripts removed, data: images turned into cid: references.

    Returns the HTML and the images as (content id, subtype, bytes). Raises ReviewError
    if anything in it would still load from the network.
    """
    images: list[tuple[str, str, bytes]] = []

    def to_cid(match: re.Match[str]) -> str:
        subtype = match[2]
        cid = make_msgid(idstring=f"figure{len(images) + 1}", domain="review.invalid")
        images.append((cid, subtype, base64.b64decode(match[3])))
        return f'src="cid:{cid[1:-1]}"'

    body = _DATA_IMAGE.sub(to_cid, _SCRIPT.sub("", html))
    remote = _REMOTE.search(body)
    if remote:
        raise ReviewError(
            f"the rendered HTML loads {remote[0]!r}... from the network; a mailed report must "
            "be self-contained (check the notebook template)"
        )
    return body, images


def report_message(
    *,
    subject: str,
    summary: str,
    html_path: Path,
    notebook_path: Path | None,
    sender: str,
    to: Sequence[str],
) -> EmailMessage:
    """multipart/mixed: (text/plain summary | related(text/html, images)) + the notebook."""
    html, images = inline_html(html_path.read_text("utf-8"))
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to it
    message.set_content(summary.rstrip() + "\n\nThe full report is this message's HTML part.\n")
    message.add_alternative(html, subtype="html")
    html_part = list(message.iter_parts())[1]
    assert isinstance(html_part, EmailMessage)
    for cid, subtype, data in images:
        html_part.add_related(data, "image", subtype, cid=cid, disposition="inline")
    if notebook_path is not None and notebook_path.is_file():
        message.add_attachment(
            notebook_path.read_bytes(),
            maintype="application",
            subtype="x-ipynb+json",
            filename=notebook_path.name,
        )
    return message


def text_message(*, subject: str, body: str, sender: str, to: Sequence[str]) -> EmailMessage:
    """A plain-text message (reminder digests)."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


def send(message: EmailMessage, mail: Mail, env: Mapping[str, str] | None = None) -> None:
    """Hand one message to the SMTP server; any failure is one MailError line."""
    env = os.environ if env is None else env
    password = env.get(PASSWORD_ENV) or None
    server = f"{mail.host}:{mail.port}"
    to = message["To"]
    for what, text in (("[mail] user", mail.user), (PASSWORD_ENV, password or "")):
        if not text.isascii():  # smtplib's login encodes ASCII only: a traceback, before
            raise MailError(
                f"{what} holds a character that is not ASCII, which the SMTP login cannot "
                f"send: use an ASCII {'name' if what.startswith('[') else 'password'} for "
                f"the SMTP server {server}"
            )
    smtp = _Bounded(mail.timeout)
    try:
        try:
            smtp.open(mail.host, mail.port)
            if mail.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if mail.user:
                if password is None:
                    raise MailError(
                        f"[mail] user is set but {PASSWORD_ENV} is not: export the SMTP "
                        "password in the environment (never in the config file)"
                    )
                _warn_if_in_clear(mail)
                smtp.login(mail.user, password)
            refused = smtp.send_message(message)
        finally:
            _hang_up(smtp)
    except MailError:
        raise
    except (smtplib.SMTPException, OSError) as exc:
        raise _failed(exc, server, mail, to, smtp.cut, smtp.in_data) from None
    if refused:
        addresses = [address for _, address in getaddresses(message.get_all("To", []))]
        raise MailError(
            f"the SMTP server {server} refused {', '.join(sorted(refused))}; the others got it",
            accepted=[a for a in addresses if a not in refused],
        )


_WARNED: set[str] = set()


def _warn_if_in_clear(mail: Mail) -> None:
    """Say on stderr (once a run) when the login would cross the network unencrypted: no
    STARTTLS to a host other than this machine (as review.rt.client does for plain http)."""
    host = mail.host.strip("[]").lower()
    try:
        local = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = False
    if mail.starttls or local or host in _WARNED:
        return
    _WARNED.add(host)
    print(
        f"warning: [mail] starttls is off: the login to the SMTP server {mail.host} sends "
        f"{PASSWORD_ENV} unencrypted; set [mail] starttls = true",
        file=sys.stderr,
    )


def _failed(
    exc: Exception, server: str, mail: Mail, to: str, cut: bool, in_data: bool
) -> MailError:
    """The one line for a send that failed: refused, rejected, cut off, dropped or not
    reached."""
    if cut:
        return MailError(
            f"the SMTP server {server} did not take the message to {to} within "
            f"{mail.timeout:g} s ([mail] timeout) and was cut off: it counts as not sent, and "
            "the next run sends it again"
        )
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return MailError(
            f"the SMTP server {server} rejected the login of [mail] user {mail.user!r} "
            f"({exc.smtp_code}): check {PASSWORD_ENV}"
        )
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return MailError(
            f"the SMTP server {server} refused every recipient ({', '.join(exc.recipients)}): "
            "check the addresses"
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error
        reason = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
        return MailError(
            f"the SMTP server {server} refused the message to {to} ({exc.smtp_code} {reason})"
        )
    if in_data and isinstance(exc, (smtplib.SMTPServerDisconnected, OSError)):
        return MailError(  # before: "check [mail] host and port", which were right
            f"the SMTP server {server} broke off the connection before it confirmed the "
            f"message to {to}: it counts as not sent, and the next run sends it again (if the "
            "server had taken it, they get it twice: SMTP cannot tell)"
        )
    return MailError(
        f"could not send mail to {to} through {server} "
        f"({exc.strerror or exc if isinstance(exc, OSError) else exc}): check [mail] host "
        "and port"
    )


class _Bounded(smtplib.SMTP):
    """smtplib's client, cut off `seconds` after it starts: each read has its own timeout,
    so a server answering a byte at a time would hold it for ever. The cut shuts the socket,
    which ends the read under way with an error."""

    def __init__(self, seconds: float) -> None:
        self.cut = False
        self.in_data = False  # the message was under way: DATA asked, its answer not read
        super().__init__(timeout=min(seconds, 30.0))  # not connected yet
        self._timer = threading.Timer(seconds, self._cut)
        self._timer.daemon = True
        self._timer.start()

    def open(self, host: str, port: int) -> None:
        """Connect (what smtplib.SMTP(host, port) does, under the deadline)."""
        self._host = host  # the name STARTTLS checks the certificate against, as SMTP(host) sets
        self.connect(host, port)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock: socket.socket = super()._get_socket(host, port, timeout)  # type: ignore[misc]
        if self.cut:  # the deadline passed while connecting
            sock.shutdown(socket.SHUT_RDWR)
        return sock

    def data(self, msg: Any) -> tuple[int, bytes]:
        """DATA, marked while under way (a connection lost then is no wrong address)."""
        self.in_data = True
        answer = super().data(msg)
        self.in_data = False
        return answer

    def _cut(self) -> None:
        self.cut = True
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._timer.cancel()
        super().close()


def _hang_up(smtp: smtplib.SMTP) -> None:
    """QUIT and close. Once the server answered the data the message is its own: a QUIT it
    refuses (421) or does not answer is no failure to send (the re-run would mail it again)."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


# --------------------------------------------------------------------------- mail only what is new


def _digest(path: Path) -> str:
    """The SHA-256 of a report as people read it: its HTML without the cells' ids. papermill
    gives the cell it adds for the parameters a new random id at each render, so a report
    rendered again without a change (--force, a kit upgrade) was mailed to everyone again."""
    return hashlib.sha256(_CELL_ID.sub(b"", path.read_bytes())).hexdigest()


def pending(out: Path, html_path: Path, to: Sequence[str]) -> list[str]:
    """The recipients this HTML has not been mailed to yet: all of `to` when the HTML changed,
    else those the record does not list (a partly refused send goes on where it stopped)."""
    entry = read_state(out / STATE_FILE).get(_key(out, html_path)) or {}
    if entry.get("sha256") != _digest(html_path):
        return list(to)
    done = set(entry.get("to", []))
    return [address for address in to if address not in done]


def record_sent(out: Path, html_path: Path, to: Sequence[str]) -> None:
    """Remember that this HTML went to these recipients too (written atomically)."""
    commit(out, html_path, to, prepare_sent(out, html_path, to))


def prepare_sent(out: Path, html_path: Path, to: Sequence[str]) -> Path:
    """The record of this HTML mailed to `to` too, written beside the record before the mail
    goes (`commit` puts it in place): a folder that cannot take it (read-only, full, a file
    size limit) stops the run before anyone is mailed. Found after the send, every run
    mailed everyone again."""
    state = read_state(out / STATE_FILE)
    key, sha = _key(out, html_path), _digest(html_path)
    entry = state.get(key) or {}
    before = entry.get("to", []) if entry.get("sha256") == sha else []
    state[key] = {"sha256": sha, "to": sorted({*before, *to})}
    try:
        return prepare_state(out / STATE_FILE, state)
    except OSError as exc:
        raise MailError(
            f"cannot record what is mailed in {out / STATE_FILE} ({exc.strerror}): nothing was "
            f"mailed; free space or make {out} writable, then run again"
        ) from None


def commit(out: Path, html_path: Path, to: Sequence[str], prepared: Path) -> None:
    """Put a record made by `prepare_sent` in place, once the server took the mail."""
    try:
        prepared.replace(out / STATE_FILE)
    except OSError as exc:  # sent all the same: say so, not a traceback
        raise MailError(
            f"mailed {html_path.name} to {', '.join(to)} but could not record it in "
            f"{out / STATE_FILE} ({exc.strerror}): fix that before the next run, which would "
            "mail it to them again"
        ) from None


def _key(out: Path, html_path: Path) -> str:
    return html_path.resolve().relative_to(out.resolve()).as_posix()


def read_state(path: Path) -> dict[str, Any]:
    """A delivery record: what was mailed to whom (empty when there is none yet)."""
    try:
        state = json.loads(path.read_text("utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    except OSError as exc:  # unreadable: taken for empty, everything would be sent again
        raise ReviewError(
            f"cannot read the delivery record {path} ({exc.strerror}): make it a readable "
            "file, then run again"
        ) from None
    return state if isinstance(state, dict) else {}


def write_state(path: Path, state: dict[str, Any]) -> None:
    """Replace a delivery record atomically (a crash leaves the old one or the new one)."""
    prepare_state(path, state).replace(path)


def prepare_state(path: Path, state: dict[str, Any]) -> Path:
    """Write a delivery record's next state beside it (a dot-file renamed over it later);
    a write that fails (disk full, read-only) leaves no partial file behind."""
    temp = path.with_name(f".{path.name}.tmp")
    try:
        temp.write_text(json.dumps(state, indent=1, sort_keys=True) + "\n", "utf-8")
    except OSError:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    return temp
