"""``benefits serve``: the intake web app on an embedded SQLite file."""
from __future__ import annotations

import logging
import os
import signal
import threading

import click
import waitress

from ..cliutil import EXIT_TERMINATED, raise_terminated
from ..engine import RulebookError
from . import create_app


def _on_sigterm(signum, frame):
    """Stop on SIGTERM (exit 143). waitress runs each connection's callbacks
    under a bare ``except``: the exception raised here can land inside one
    and be swallowed, and the server would keep serving. So the process is
    ended for sure two seconds later if it is still running then (SQLite's
    transactions are atomic: nothing half-written is left)."""
    signal.signal(signal.SIGALRM, lambda *_: os._exit(EXIT_TERMINATED))
    signal.alarm(2)
    raise_terminated(signum, frame)


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
                          "DEMO_PASSWORD": demo_password, "FINANCE_WORKERS": finance_workers})
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
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)
    waitress.serve(app, host=host, port=port, threads=threads, ident="benefits", **options)
