"""frontend/nginx/default.conf: `nginx -t`, then a real nginx serving a fake build (history fallback, caching,
security headers). The same file the frontend image installs as /etc/nginx/conf.d/default.conf."""

from __future__ import annotations

import os
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.net import free_port, wait_until
from tests.deploy.helpers import REPO_DIR, require_binary

NGINX_DIR = REPO_DIR / "frontend" / "nginx"
INDEX_HTML = (
    b'<!doctype html><html><body><div id="root"></div><script src="/assets/index-abc123.js"></script>'
)


def _nginx() -> str:
    return require_binary("nginx", "/usr/sbin")


def _write_config(root: Path, port: int) -> Path:
    """The image's layout in a temp dir: nginx.conf (the image's http block) + conf.d + snippets."""
    dist = root / "html"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_bytes(INDEX_HTML)
    (dist / "assets" / "index-abc123.js").write_text("console.log('app');\n")
    (dist / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    server = (NGINX_DIR / "default.conf").read_text()
    assert "listen 8080;" in server
    assert "root /usr/share/nginx/html;" in server
    server = server.replace("listen 8080;", f"listen 127.0.0.1:{port};").replace(
        "root /usr/share/nginx/html;", f"root {dist};"
    )
    (root / "conf.d").mkdir()
    (root / "conf.d" / "default.conf").write_text(server)
    shutil.copytree(NGINX_DIR / "snippets", root / "snippets")
    headers = root / "snippets" / "security-headers.inc"
    headers.write_text(headers.read_text().replace("__API_ORIGIN__", "http://localhost:8000"))
    for temp in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (root / f"{temp}_temp").mkdir()
    conf = root / "nginx.conf"
    conf.write_text(
        f"""
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {root}/access.log;
    client_body_temp_path {root}/client_body_temp;
    proxy_temp_path {root}/proxy_temp;
    fastcgi_temp_path {root}/fastcgi_temp;
    uwsgi_temp_path {root}/uwsgi_temp;
    scgi_temp_path {root}/scgi_temp;
    include {root}/conf.d/*.conf;
}}
"""
    )
    if _running_as_root():
        # As root, nginx's workers would drop to `nobody`, who cannot read pytest's private temp dir.
        conf.write_text("user root;\n" + conf.read_text())
    return conf


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback test URL
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


@pytest.fixture(scope="module")
def nginx_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = _nginx()
    root = tmp_path_factory.mktemp("nginx")
    port = free_port()
    conf = _write_config(root, port)
    test = subprocess.run(
        [binary, "-t", "-p", str(root), "-e", str(root / "error.log"), "-c", str(conf)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert test.returncode == 0, f"nginx -t failed:\n{test.stderr}"
    proc = subprocess.Popen(
        [binary, "-p", str(root), "-e", str(root / "error.log"), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: proc.poll() is not None or _healthz(url), 10, "nginx to answer")
        assert proc.poll() is None, f"nginx exited:\n{(root / 'error.log').read_text()}"
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _healthz(url: str) -> bool:
    try:
        return _get(f"{url}/healthz")[0] == 200
    except OSError:
        return False


def test_nginx_config_test_passes(nginx_url: str) -> None:
    # The fixture ran `nginx -t` on it and started it.
    assert _get(f"{nginx_url}/healthz")[0] == 200


def test_client_routes_fall_back_to_the_app_shell(nginx_url: str) -> None:
    for path in (
        "/",
        "/appointments/0d8e/checkout",
        "/checkout/return?appointment_id=1",
        "/checkout/cancelled",
    ):
        status, headers, body = _get(nginx_url + path)
        assert status == 200, path
        assert body == INDEX_HTML, path
        assert headers["content-type"].startswith("text/html"), path
        assert headers["cache-control"] == "no-cache", path


def test_index_html_is_never_cached(nginx_url: str) -> None:
    status, headers, _ = _get(f"{nginx_url}/index.html")
    assert status == 200
    assert headers["cache-control"] == "no-cache"


def test_hashed_assets_are_immutable_and_missing_ones_are_404(nginx_url: str) -> None:
    status, headers, body = _get(f"{nginx_url}/assets/index-abc123.js")
    assert status == 200
    assert body == b"console.log('app');\n"
    assert "javascript" in headers["content-type"]
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    status, _, body = _get(f"{nginx_url}/assets/index-gone.js")
    assert status == 404
    assert body != INDEX_HTML


def test_security_headers_on_every_answer(nginx_url: str) -> None:
    for path in (
        "/",
        "/appointments/x/checkout",
        "/assets/index-abc123.js",
        "/favicon.svg",
        "/assets/nope.js",
    ):
        _, headers, _ = _get(nginx_url + path)
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["x-frame-options"] == "DENY", path
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin", path
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp, path
        assert "connect-src 'self' http://localhost:8000" in csp, path
        assert "nginx/" not in headers.get("server", ""), path
