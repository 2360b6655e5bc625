"""A small SMTP server on 127.0.0.1 for the mail tests: speaks enough of RFC 5321 for smtplib
(EHLO, MAIL, RCPT, DATA, QUIT) and keeps what it received, so a test sees what really went out."""

import socketserver
import threading
from dataclasses import dataclass, field


@dataclass
class Received:
    sender: str = ""
    recipients: list[str] = field(default_factory=list)
    data: str = ""


class _Handler(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        message = Received()
        self.reply("220 receiver ESMTP")
        while line := self.rfile.readline().decode().rstrip("\r\n"):
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 receiver")
            elif verb == "MAIL":
                message.sender = line.split(":", 1)[1].strip().strip("<>")
                self.reply("250 OK")
            elif verb == "RCPT":
                message.recipients.append(line.split(":", 1)[1].strip().strip("<>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 end with .")
                lines = []
                while (body := self.rfile.readline().decode()) not in (".\r\n", ""):
                    lines.append(body)
                message.data = "".join(lines)
                self.server.received.append(message)  # type: ignore[attr-defined]
                message = Received()
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 OK")


class SMTPReceiver(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received: list[Received] = []
        self.port = self.server_address[1]

    def __enter__(self):
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()
