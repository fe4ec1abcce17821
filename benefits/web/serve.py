"""``benefits serve``: the intake web app on an embedded SQLite file."""
from __future__ import annotations

import logging
import signal

import click
import waitress
from waitress import wasyncore

from ..cliutil import Terminated
from ..engine import RulebookError
from . import create_app


def run_until_terminated(server) -> None:
    """Serve until SIGTERM, then stop the request threads and raise
    Terminated (exit 143).

    Why not raise from the signal handler (the old way): the handler runs in
    the main thread, which is inside waitress's event loop; when the signal
    lands while a channel's read or write runs, wasyncore's bare ``except``
    hands the exception to ``handle_error``, which logs it and closes that
    one connection, and the server went on serving (about 1 run in 6 of the
    production-server test). So the handler only notes the signal and wakes
    the loop through waitress's trigger pipe; the loop runs one poll at a
    time and stops when it sees the note, outside any channel callback."""
    stopping: list[int] = []

    def on_sigterm(signum, frame):
        stopping.append(signum)
        if wake is not None:
            wake()                     # a byte on waitress's pipe: select() returns now

    # one address: a TcpWSGIServer (its own map and trigger); several (a
    # host name with IPv4 and IPv6): a MultiSocketServer, woken by the poll's timeout
    socket_map = server._map if hasattr(server, "_map") else server.map
    wake = getattr(server, "pull_trigger", None)
    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        while socket_map and not stopping:
            wasyncore.loop(timeout=server.adj.asyncore_loop_timeout, map=socket_map,
                           use_poll=server.adj.asyncore_use_poll, count=1)
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.task_dispatcher.shutdown()   # waits up to 5 s for requests under way
        wasyncore.close_all(socket_map)
    if stopping:
        raise Terminated


def run_server(app, **options) -> None:
    """waitress on one address, in this (main) thread, until SIGTERM or Ctrl-C."""
    server = waitress.create_server(app, **options)
    server.print_listen("Serving on http://{}:{}")
    run_until_terminated(server)


@click.command()
@click.option("--db", "database", default="instance/benefits.sqlite", show_default=True,
              type=click.Path(dir_okay=False), help="SQLite 数据库文件（首次启动时创建）")
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址")
@click.option("--port", default=5000, show_default=True, type=int, help="端口")
@click.option("--rules", "rules_dir", type=click.Path(file_okay=False), help="规则目录（默认项目内 rules/）")
@click.option("--secure-cookies", is_flag=True, help="仅通过 HTTPS 发送会话 Cookie（部署在 HTTPS 后时使用）")
@click.option("--no-demo", is_flag=True, help="新数据库不写入演示用户和案件")
@click.option("--demo-password", envvar="BENEFITS_DEMO_PASSWORD", help="演示用户的密码（默认随机生成）")
@click.option("--finance-workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="每个资金测算任务的进程数（1 = 在服务器进程的后台线程中运行）")
@click.option("--threads", type=click.IntRange(1, 256), default=8, show_default=True,
              help="同时处理请求的线程数（waitress）")
@click.option("--trusted-proxy", default=None,
              help="前置 HTTPS 代理的地址：只信任它发来的 X-Forwarded-For（登录限制按真实来源地址计）")
def serve(database, host, port, rules_dir, secure_cookies, no_demo, demo_password, finance_workers,
          threads, trusted_proxy):
    """Start the clerk's intake web app (受理网页)."""
    try:
        app = create_app({"DATABASE": database, "RULES_DIR": rules_dir,
                          "SESSION_COOKIE_SECURE": secure_cookies, "DEMO": not no_demo,
                          "DEMO_PASSWORD": demo_password, "FINANCE_WORKERS": finance_workers,
                          "REUSE_DB_CONNECTIONS": True})
    except RulebookError as exc:
        raise click.ClickException(f"规则文件错误：{exc}") from None
    logins = app.config["DEMO_LOGINS"]
    if logins:
        click.echo(f"已创建数据库 {database}，演示用户（密码相同，只显示这一次）：")
        for username, role, password in logins:
            click.echo(f"    {username:<16} {role:<20} 密码 {password}")
    click.echo(f"请在浏览器打开 http://{host}:{port}/ 登录。按 Ctrl+C 停止。", nl=True)
    # waitress: a production WSGI server with a thread pool (Flask's own
    # server is for development only). The engine serialises evaluations
    # behind its lock; the threads overlap database and network waits.
    options = {"trusted_proxy": trusted_proxy, "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"},
               "clear_untrusted_proxy_headers": True} if trusted_proxy else {}
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    run_server(app, host=host, port=port, threads=threads, ident="benefits", **options)
