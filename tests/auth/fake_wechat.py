"""A fake WeChat server: a tiny `http.server` on a free localhost port.

code2session (`GET /sns/jscode2session`) answers by the `js_code` sent, so each test
names the behaviour it wants: `ok:<openid>[:<unionid>]`, `err:<errcode>`, `slow` (longer
than the test's timeout), `http500`, `garbage`, `noopenid`; anything else is errcode
40029. It records every query it received in `FakeWechat.received`.

stable_token (`POST /cgi-bin/stable_token`) hands out `TOKEN-<n>`, a new one per call
(`token_delay` seconds late, living `token_lifetime` seconds); a token in
`FakeWechat.revoked` (every token, with `refuse_every_token`) is refused by send with 40001.

subscribeMessage.send (`POST /cgi-bin/message/subscribe/send?access_token=…`) answers by
the `touser` openid: `quota0…` → 43101, `err<code>…` (e.g. `err47003-x`) → that errcode,
`down…` → the connection is dropped without an answer (a network error); anything else
is delivered after `send_delay` seconds and appended to `FakeWechat.sent`.

Every POST is recorded in `received` too (path, body, and the query's access_token).
Point WECHAT_API_BASE at `base_url(server)`. Tests running sender processes reset the
counters with `reset()`.
"""
from __future__ import annotations

import itertools
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

SESSION_KEY = "SESSIONKEY-must-never-leak-7f3a"


class FakeWechat(BaseHTTPRequestHandler):
    received: list[dict] = []
    slow_seconds = 1.5
    # stable_token and subscribeMessage.send
    token_numbers = itertools.count(1)
    token_delay = 0.0
    token_lifetime = 7200
    tokens: list[str] = []              # every token handed out, in order
    revoked: set[str] = set()
    refuse_every_token = False          # even one handed out just now (send → 40001)
    send_delay = 0.0
    sent: list[dict] = []
    lock = threading.Lock()

    @classmethod
    def reset(cls) -> None:
        with cls.lock:
            cls.received, cls.tokens, cls.revoked, cls.sent = [], [], set(), []
            cls.token_delay = cls.send_delay = 0.0
            cls.refuse_every_token = False
            cls.token_lifetime = 7200

    def log_message(self, *args):  # keep test output quiet
        pass

    def _send(self, status: int, body: str, content_type: str = "text/plain") -> None:
        data = body.encode()
        try:
            self.send_response(status)
            # WeChat really answers JSON as text/plain.
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the timeout test)

    def do_GET(self):
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        type(self).received.append({"path": url.path, **query})
        code = query.get("js_code", "")
        if url.path != "/sns/jscode2session":
            return self._send(404, "not found")
        kind, _, rest = code.partition(":")
        if kind == "ok":
            openid, _, unionid = rest.partition(":")
            answer = {"openid": openid, "session_key": SESSION_KEY}
            if unionid:
                answer["unionid"] = unionid
            return self._send(200, json.dumps(answer))
        if kind == "err":
            return self._send(200, json.dumps({"errcode": int(rest), "errmsg": "fake error"}))
        if kind == "slow":
            time.sleep(self.slow_seconds)
            return self._send(200, json.dumps({"openid": "late", "session_key": SESSION_KEY}))
        if kind == "http500":
            return self._send(500, "<html>busy</html>", "text/html")
        if kind == "garbage":
            return self._send(200, "<html>not json</html>", "text/html")
        if kind == "noopenid":
            return self._send(200, json.dumps({"session_key": SESSION_KEY}))
        return self._send(200, json.dumps({"errcode": 40029, "errmsg": "invalid code"}))

    def do_POST(self):
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            return self._send(200, json.dumps({"errcode": 47001, "errmsg": "bad json"}))
        with type(self).lock:
            type(self).received.append({"path": url.path, "body": body,
                                        "access_token": query.get("access_token")})
        if url.path == "/cgi-bin/stable_token":
            return self._stable_token(body)
        if url.path == "/cgi-bin/message/subscribe/send":
            return self._subscribe_send(query.get("access_token"), body)
        return self._send(404, "not found")

    def _stable_token(self, body):
        cls = type(self)
        if body.get("grant_type") != "client_credential" or not body.get("secret"):
            return self._send(200, json.dumps({"errcode": 40013, "errmsg": "invalid appid"}))
        time.sleep(cls.token_delay)
        with cls.lock:
            token = f"TOKEN-{next(cls.token_numbers)}"
            cls.tokens.append(token)
        return self._send(200, json.dumps({"access_token": token,
                                           "expires_in": cls.token_lifetime}))

    def _subscribe_send(self, token, body):
        cls = type(self)
        with cls.lock:
            known = (token in cls.tokens and token not in cls.revoked
                     and not cls.refuse_every_token)
        if not known:
            return self._send(200, json.dumps({"errcode": 40001, "errmsg": "invalid credential"}))
        openid = str(body.get("touser", ""))
        if openid.startswith("quota0"):
            return self._send(200, json.dumps({"errcode": 43101, "errmsg": "user refuse"}))
        match = re.match(r"err(-?\d+)", openid)
        if match:
            return self._send(200, json.dumps({"errcode": int(match.group(1)),
                                               "errmsg": "fake error"}))
        if openid.startswith("down"):
            self.close_connection = True      # no answer at all: the client sees a reset
            return None
        time.sleep(cls.send_delay)
        with cls.lock:
            cls.sent.append(body)
        return self._send(200, json.dumps({"errcode": 0, "errmsg": "ok", "msgid": len(cls.sent)}))


def start_fake_wechat() -> ThreadingHTTPServer:
    """Serve in a daemon thread; call `shutdown()` and `server_close()` when done."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeWechat)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def base_url(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}"
