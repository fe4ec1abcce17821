"""``benefits users``: accounts of the web app (用户管理), from the command line.

The app itself seeds only demo users; an office creates its real accounts
here. Passwords are asked for twice and never echoed.
"""
from __future__ import annotations

import sqlite3

import click

from . import store
from .auth import hasher, utc_now
from .labels import COUNTIES, ROLE

MIN_PASSWORD = 10

_db_option = click.option("--db", "database", default="instance/benefits.sqlite", show_default=True,
                          type=click.Path(dir_okay=False), help="SQLite 数据库文件")


def _open(database: str):
    db = store.connect(database)
    store.migrate(db)
    return db


def _password(value: str) -> str:
    if len(value) < MIN_PASSWORD:
        raise click.BadParameter(f"密码至少{MIN_PASSWORD}个字符")
    return value


@click.group()
def users():
    """Accounts of the web app (用户管理)."""


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(store.ROLES), required=True, help="角色")
@click.option("--county", type=click.Choice(list(COUNTIES)), help="县区受理员所属县（市、区）代码")
@click.option("--name", "display_name", default="", help="显示的姓名")
@click.password_option("--password", help="密码（不填则提示输入两次）")
@_db_option
def add(username, role, county, display_name, password, database):
    """Create an account."""
    _password(password)
    if (role == "clerk") != (county is not None):
        raise click.UsageError("县区受理员必须用 --county 指定一个县（市、区）；其他角色不能指定")
    db = _open(database)
    try:
        user_id = store.add_user(db, username, hasher.hash(password), role, county,
                                 display_name or (f"{COUNTIES[county]}受理员" if county else ROLE[role][0]))
    except sqlite3.IntegrityError:
        raise click.ClickException(f"用户名 {username} 已存在") from None
    store.audit(db, None, "user_added", detail=f"{username} ({role}{' ' + county if county else ''}) by command line")
    click.echo(f"已创建用户 {username}（{ROLE[role][0]}{' · ' + COUNTIES[county] if county else ''}），编号 {user_id}")


@users.command("password")
@click.argument("username")
@click.password_option("--password", help="新密码（不填则提示输入两次）")
@_db_option
def password(username, password, database):
    """Set a new password (ends the user's sessions and API tokens, lifts log-in back-off)."""
    _password(password)
    db = _open(database)
    user = store.user_by_name(db, username)
    if user is None:
        raise click.ClickException(f"没有用户 {username}")
    store.set_password(db, user["id"], hasher.hash(password))
    store.audit(db, None, "password_set", detail=f"{username} by command line")
    click.echo(f"已为 {username} 设置新密码")


@users.command("list")
@_db_option
def list_(database):
    """List accounts."""
    db = _open(database)
    throttled = store.throttled_names(db, utc_now())   # tests replace utc_now
    for user in store.users(db):
        county = COUNTIES.get(user["county"] or "", "")
        waiting = throttled.get(user["username"])
        locked = f"  （{waiting} 个地址登录受限）" if waiting else ""
        click.echo(f"{user['username']:<18} {ROLE[user['role']][0]:<8} {county:<5} {user['display_name']}{locked}")


@users.command("token")
@click.argument("username")
@click.option("--label", default="", help="用途说明（如 对接系统名称）")
@click.option("--days", type=click.IntRange(1, store.TOKEN_MAX_DAYS), default=store.TOKEN_DAYS, show_default=True,
              help="有效天数")
@click.option("--read-only", is_flag=True, help="只读令牌：可查询、评估和测算，不能保存或修改")
@_db_option
def token(username, label, days, read_only, database):
    """Issue an API token (shown once; it expires after --days, an admin can
    revoke it on /admin/users, a new password revokes it)."""
    db = _open(database)
    user = store.user_by_name(db, username)
    if user is None:
        raise click.ClickException(f"没有用户 {username}")
    scope = "read" if read_only else "full"
    issued = store.new_api_token(db, user["id"], label, days=days, scope=scope, at=utc_now())
    store.audit(db, None, "token_issued", detail=f"{username} {label} {scope} {days} days by command line")
    click.echo(f"{username} 的 API 令牌（{store.TOKEN_SCOPES[scope][:2]}，{days} 天后过期；只显示这一次，请妥善保存）：\n{issued}\n"
               f"用法：curl -H 'Authorization: Bearer {issued}' …/api/v1/rules")
