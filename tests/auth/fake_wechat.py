"""A fake WeChat code2session server: a tiny `http.server` on a free localhost port.

What it answers depends on the `js_code` sent, so each test names the behaviour it wants:
`ok:<openid>[:<unionid>]`, `err:<errcode>`, `slow` (longer than the test's timeout),
`http500`, `garbage`, `noopenid`; anything else is errcode 40029. It records every query
it received in `FakeWechat.received`. Point WECHAT_API_BASE at `base_url(server)`.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

SESSION_KEY = "SESSIONKEY-must-never-leak-7f3a"


class FakeWechat(BaseHTTPRequestHandler):
    received: list[dict] = []
    slow_seconds = 1.5

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


def start_fake_wechat() -> ThreadingHTTPServer:
    """Serve in a daemon thread; call `shutdown()` and `server_close()` when done."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeWechat)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def base_url(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}"
