"""Display labels (界面文字), Chinese first with English beside them.

COUNTIES repeats the engine's current county list because the web layer uses
only the engine's public API; a test keeps the two identical.
"""
from __future__ import annotations

COUNTIES = {
    "411202": "湖滨区",
    "411203": "陕州区",
    "411221": "渑池县",
    "411224": "卢氏县",
    "411281": "义马市",
    "411282": "灵宝市",
}

STATUS = {"eligible": ("符合", "eligible"), "ineligible": ("不符合", "not eligible"),
          "undetermined": ("待定（缺少信息）", "undetermined (facts missing)")}
CASE_STATUS = {"eligible": ("有符合项目", "has grants"),
               "undetermined": ("无符合项，待补充信息", "no grant yet, facts missing"),
               "ineligible": ("均不符合", "nothing granted")}
PERIOD = {"monthly": ("每月", "monthly"), "yearly": ("每年", "yearly"),
          "one_off": ("一次性", "one-off"), "ongoing": ("长期", "ongoing")}
PAYER = {"city": ("市级财政", "city"), "county": ("县级财政", "county"),
         "unspecified": ("未指明", "unspecified")}
ROLE = {"clerk": ("县区受理员", "county clerk"), "finance": ("财政", "finance"),
        "policy": ("政策", "policy"), "admin": ("系统管理员", "administrator")}
REASON_MARK = {"held": "✓", "failed": "✗", "unknown": "?"}

UI = {
    "app": ("三门峡市残疾人救助受理", "Sanmenxia disability relief intake"),
    "login": ("登录", "Log in"), "logout": ("退出", "Log out"),
    "username": ("用户名", "Username"), "password": ("密码", "Password"),
    "intake": ("受理评估", "Intake"), "cases": ("案件", "Cases"), "rules": ("规则", "Rules"),
    "users": ("用户", "Users"), "audit": ("审计日志", "Audit log"),
    "evaluate": ("评估", "Evaluate"), "save": ("保存为案件", "Save as case"),
    "save_new": ("保存并重新评估", "Save and re-evaluate"),
    "unanswered": ("未填", "not answered"), "yes": ("是", "yes"), "no": ("否", "no"),
    "determination": ("评估结果", "Determination"), "status": ("状态", "Status"),
    "amount": ("金额", "Amount"), "period": ("周期", "Period"), "payer": ("出资", "Payer"),
    "clause": ("条款", "Clause"), "reasons": ("理由", "Reasons"),
    "assumption": ("假设", "Assumption"), "unverified": ("未核实参数", "Unverified parameter"),
    "missing": ("需补充（下一步要问的问题）", "Missing facts (ask next)"),
    "summary": ("汇总", "Summary"), "version": ("规则版本", "Rulebook version"),
    "eval_date": ("评估日期", "Evaluation date"), "name": ("姓名", "Name"),
    "id_number": ("身份证号", "ID number"), "county": ("户籍", "County"),
    "search": ("查询", "Search"), "all": ("全部", "All"), "page": ("页", "page"),
    "prev": ("上一页", "Previous"), "next": ("下一页", "Next"),
    "detail": ("详情", "Detail"), "history": ("历史", "History"),
    "edit": ("修改信息", "Edit facts"), "reevaluate": ("按现行规则重新评估", "Re-evaluate with current rules"),
    "notice": ("打印审批表", "Printable notice"), "changes": ("与上次评估相比的变化", "Changes since last determination"),
    "no_changes": ("与上次评估相比无变化", "No change since last determination"),
    "members": ("家庭成员（不含申请人）", "Household members (not the applicant)"),
    "happened": ("发生", "happened"), "no_cases": ("没有案件", "No cases"),
    "created": ("登记时间", "Created"), "updated": ("更新时间", "Updated"), "by": ("经办人", "By"),
    "errors_top": ("记录有误，请按提示修改：", "Please correct the record:"),
    "print": ("打印", "Print"), "unlock": ("解锁", "Unlock"), "role": ("角色", "Role"),
    "locked": ("已锁定至", "locked until"), "action": ("操作", "Action"), "time": ("时间", "Time"),
    "case": ("案件", "Case"), "forbidden": ("无权访问", "Forbidden"), "not_found": ("未找到", "Not found"),
    "age": ("年龄", "Age"), "residence": ("城乡", "Urban/rural"), "benefit": ("项目", "Benefit"),
    "granted": ("核准的救助项目", "Benefits granted"),
    "finance": ("资金测算", "Cost estimate"),
}


def label(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]
