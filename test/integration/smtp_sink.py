"""A throw-away SMTP relay on 127.0.0.1 for the tests: EHLO, STARTTLS (with a
certificate made here), AUTH PLAIN (only after STARTTLS, as a careful relay
does), MAIL, RCPT, DATA, RSET, NOOP, QUIT. Every accepted message is kept
with how it came (TLS or not, who authenticated)."""
import base64
import os
import socket
import socketserver
import ssl
import subprocess
import tempfile
import threading
import time


def make_cert(folder):
    """A self-signed certificate for 127.0.0.1: (cert, key) paths."""
    cert, key = os.path.join(folder, "relay.crt"), os.path.join(folder, "relay.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    # the children (www-data under root) read the CA file
    os.chmod(folder, 0o755)
    os.chmod(cert, 0o644)
    return cert, key


class _Handler(socketserver.StreamRequestHandler):
    def setup(self):
        super().setup()
        self.tls = False
        self.user = None

    def say(self, line):
        self.wfile.write((line + "\r\n").encode())
        self.wfile.flush()

    def read(self):
        line = self.rfile.readline(4096)
        if not line:
            raise EOFError
        return line.decode("utf-8", "replace").rstrip("\r\n")

    def handle(self):
        sink = self.server.sink
        if sink.stall:
            # a relay that takes the connection and never answers
            time.sleep(sink.stall)
            return
        try:
            self.say("220 sink ESMTP")
            mail_from, rcpt = None, []
            while True:
                cmd = self.read()
                verb = cmd.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    caps = ["250-sink"]
                    if sink.context and not self.tls:
                        caps.append("250-STARTTLS")
                    if sink.users and self.tls:
                        caps.append("250-AUTH PLAIN")
                    caps.append("250 8BITMIME")
                    for c in caps:
                        self.say(c)
                elif verb == "STARTTLS" and sink.context and not self.tls:
                    self.say("220 go ahead")
                    self.request = sink.context.wrap_socket(self.request, server_side=True)
                    self.rfile = self.request.makefile("rb")
                    self.wfile = self.request.makefile("wb")
                    self.tls = True
                elif verb == "AUTH":
                    parts = cmd.split(" ")
                    if not self.tls:
                        sink.auth_in_clear += 1
                        self.say("538 encryption required")
                        continue
                    blob = parts[2] if len(parts) > 2 else None
                    if blob is None:
                        self.say("334 ")
                        blob = self.read()
                    try:
                        _, user, pw = base64.b64decode(blob).decode().split("\0")
                    except ValueError:
                        self.say("501 bad")
                        continue
                    if sink.users.get(user) == pw:
                        self.user = user
                        self.say("235 ok")
                    else:
                        self.say("535 no")
                elif verb == "MAIL":
                    if sink.users and not self.user:
                        self.say("530 authentication required")
                        continue
                    mail_from, rcpt = cmd[10:].strip(), []
                    self.say("250 ok")
                elif verb == "RCPT":
                    rcpt.append(cmd[8:].strip())
                    self.say("250 ok")
                elif verb == "DATA":
                    self.say("354 go")
                    lines = []
                    while True:
                        line = self.rfile.readline(100000).decode("utf-8", "replace")
                        if line in (".\r\n", ".\n"):
                            break
                        lines.append(line[1:] if line.startswith("..") else line)
                    with sink.lock:
                        sink.messages.append({"from": mail_from, "to": rcpt,
                                              "data": "".join(lines), "tls": self.tls,
                                              "user": self.user})
                    self.say("250 queued")
                elif verb in ("RSET", "NOOP"):
                    self.say("250 ok")
                elif verb == "QUIT":
                    self.say("221 bye")
                    return
                else:
                    self.say("502 what")
        except (EOFError, ConnectionError, ssl.SSLError, OSError):
            return


class SmtpSink:
    """with SmtpSink(tls=True, users={"u": "p"}) as s: ... s.messages"""

    def __init__(self, tls=False, users=None, stall=0):
        self.stall = stall
        self.folder = tempfile.mkdtemp(prefix="siali-smtp-")
        self.messages = []
        self.lock = threading.Lock()
        self.users = users or {}
        self.auth_in_clear = 0
        self.context = None
        self.cert = None
        if tls:
            self.cert, key = make_cert(self.folder)
            self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.context.load_cert_chain(self.cert, key)
        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.sink = self
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def relay(self):
        return "127.0.0.1:%d" % self.port

    def wait(self, n, timeout=15):
        """The first n messages, once they came (the module sends after its answer)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if len(self.messages) >= n:
                    return list(self.messages)
            time.sleep(0.05)
        return list(self.messages)

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        subprocess.run(["rm", "-rf", self.folder])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def closed_port():
    """A port on 127.0.0.1 nobody listens on (a relay that is down)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
