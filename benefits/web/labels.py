"""Display labels (界面文字), Chinese first with English beside them."""
from __future__ import annotations

from ..engine import CURRENT_COUNTIES as COUNTIES  # noqa: F401  (the 户籍 counties, for forms and lists)

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

# Audit actions (审计日志的操作) as the admin reads them.
ACTIONS = {
    "rollaudit.start": ("名册核对（开始）", "roll audit started"),
    "rollaudit.read": ("查看名册核对结果", "roll audit read"),
    "rollaudit.download": ("下载名册核对工作簿", "roll audit workbook downloaded"),
    "case.create": ("登记案件", "case created"), "case.update": ("修改信息并重新评估", "facts corrected"),
    "case.reevaluate": ("按现行规则重新评估", "re-evaluated"), "case.read": ("查看案件", "case read"),
    "case.list": ("查看案件列表", "case list"), "case.history": ("查看评估历史", "history read"),
    "case.notice": ("打开审批表", "notice opened"),
    "case.replay": ("按原规则版本重放", "replayed under its rulebook version"),
    "case.changes": ("查看现行规则下会变化的案件", "cases changed by today's rules"), "denied": ("拒绝访问", "access refused"),
    "login.ok": ("登录", "logged in"), "login.fail": ("登录失败", "log-in failed"),
    "login.throttled": ("登录受限（失败过多，等待中）", "log-in held back"), "logout": ("退出", "logged out"),
    "session_expired": ("超时未操作，自动退出", "session expired"), "user.unlock": ("解除登录限制", "back-off lifted"),
    "user_added": ("新建用户", "user added"), "password_set": ("设置新密码", "password set"),
    "token_issued": ("发放 API 令牌", "API token issued"), "token.revoke": ("作废 API 令牌", "API token revoked"), "estimate.start": ("开始资金测算", "estimate started"),
    "estimate.read": ("查看测算结果", "estimate read"), "estimate.download": ("下载测算工作簿", "workbook downloaded"),
    "policy.compare": ("政策测算（改革前后对比）", "policy what-if run"),
    "policy.read": ("查看政策测算结果", "what-if result read"),
    "policy.download": ("下载政策测算工作簿", "what-if workbook downloaded"),
}

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
    "missing": ("需补充", "Missing facts"),
    "ask_next": ("下一步要问的问题", "Questions to ask next"),
    "decides": ("（可确定 {n} 项：", "(decides {n}: "),
    "gate_then": ("答“是”再问：", "if yes, then: "),
    "folded_count": ("（{n} 项不符合，其中 {shared} 项因此）", "({n} lines, {shared} for this reason)"),
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
    "throttled": ("登录受限的地址数", "addresses waiting after failed log-ins"), "action": ("操作", "Action"), "time": ("时间", "Time"),
    "audit_detail": ("详情", "Detail"), "applicant_value": ("（申请人：{value}）", " (applicant: {value})"),
    "case_query": ("姓名，或身份证号（完整、后4位或列表中的打码号）", "Name, or ID number (whole, last 4 or masked as listed)"), "date_from": ("自", "From"), "date_to": ("至", "To"),
    "audit_total": ("共 {total} 条", "{total} rows"),
    # replay and the cases today's rules change
    "replay": ("按原规则版本重放", "Replay under its rulebook version"),
    "replay_same": ("一致：与保存的结果逐字节相同", "Same: byte for byte the saved determination"),
    "replay_differs": ("不一致：按原规则版本重放的结果与保存的不同", "Differs: the replay is not what was saved"),
    "replay_failed": ("无法重放", "Cannot be replayed"), "not_kept": ("规则文件未保存，无法重放", "rule files not kept: cannot be replayed"),
    "changed_cases": ("现行规则下会变化的案件", "Cases today's rules change"),
    "changed_intro": ("每个案件的最新一次评估，用其保存时的事实和评估日期，按现行规则（版本 {version}）重新评估，并与保存的结果比较；"
                      "任何项目的状态或金额不同即列出。",
                      "Each case's latest determination, re-evaluated on its saved facts and evaluation day under today's rules "
                      "(version {version}) and compared with what was saved; listed when any line's status or amount differs."),
    "changed_progress": ("已核对 {checked} / {total} 个案件", "{checked} of {total} cases checked"),
    "changed_found": ("有变化的案件：{found} 个", "Cases that change: {found}"),
    "changed_none": ("已核对的案件中没有变化", "No checked case changes"),
    "changed_more": ("继续核对", "Check more"), "all_counties": ("全部县（市、区）", "All counties"),
    "saved_version": ("保存时版本", "Saved under"), "changed_lines": ("变化的项目", "Lines that change"),
    "case": ("案件", "Case"), "forbidden": ("无权访问", "Forbidden"), "not_found": ("未找到", "Not found"),
    "age": ("年龄", "Age"), "residence": ("城乡", "Urban/rural"), "benefit": ("项目", "Benefit"),
    "granted": ("核准的救助项目", "Benefits granted"),
    "finance": ("资金测算", "Cost estimate"),
    # the finance office's cost-estimate pages
    "fin_intro": ("上传台账（.csv、.xlsx 或 .jsonl，最大 {mb} MB，列名与 benefits estimate 命令相同），按所选预算年度测算 63号 各救助项目的资金，"
                  "按项目、县（市、区）、出资方汇总。测算在后台进行，一次一个任务。",
                  "Upload a caseload (.csv, .xlsx or .jsonl, at most {mb} MB, the columns of the benefits estimate command) "
                  "to estimate the yearly cost of every 63号 benefit by benefit, county and payer. "
                  "Estimates run in the background, one at a time."),
    "fin_file": ("台账文件", "Caseload file"), "fin_year": ("预算年度", "Budget year"),
    "fin_start": ("开始测算", "Start the estimate"), "fin_jobs": ("测算任务", "Estimate jobs"),
    "fin_no_jobs": ("还没有测算任务", "No estimates yet"), "fin_submitted": ("提交时间", "Submitted"),
    "fin_progress": ("进度", "Progress"), "fin_finished": ("完成时间", "Finished"),
    "fin_all_jobs": ("← 全部测算任务", "← All estimate jobs"),
    "fin_title": ("{year}年度救助资金测算", "Relief cost estimate {year}"),
    "fin_processed": ("已处理 {done} / {total} 条记录", "{done} of {total} rows processed"),
    "fin_auto": ("本页自动刷新；也可", "this page refreshes itself; or"), "fin_reload": ("手动刷新", "reload"),
    "fin_rows": ("台账记录", "Rows"), "fin_evaluated": ("已评估（人）", "Evaluated (persons)"),
    "fin_evaluations": ("评估次数", "Evaluations"), "fin_rejected": ("被拒绝（条）", "Rejected (rows)"),
    "fin_change_points": ("变动日", "Change points"),
    "min": ("下限", "Low"), "mid": ("中值", "Mid"), "max": ("上限", "High"), "yuan": ("元", "yuan"),
    "total": ("合计", "Total"), "fin_floor": ("其中按“不低于”下限计", "of which “at least” lines at their floor"),
    "fin_rehab_aside": ("康复进社区、进农村专项经费（另列，不少于）", "Community rehabilitation budgets (separate, at least)"),
    "fin_download": ("下载测算工作簿（XLSX）", "Download the workbook (XLSX)"), "fin_method": ("测算方法", "Method"),
    "fin_by_benefit": ("一、按项目", "1. By benefit"), "fin_by_county": ("二、按县（市、区）", "2. By county"),
    "fin_by_payer": ("三、按出资方", "3. By payer"),
    "fin_rehab": ("四、康复进社区、进农村专项经费（63号 三（一），县级财政，不少于）",
                  "4. Community rehabilitation budgets (63号 三（一）, county budget, at least)"),
    "fin_parameters": ("五、所用参数（⚠ = 未核实的示例值，须由主管部门核实）",
                       "5. Parameters used (⚠ = unverified example value, to be confirmed by the department)"),
    "fin_rejects": ("六、被拒绝的记录", "6. Rejected rows"),
    "fin_rejects_note": ("此处列前 {shown} 条，全部 {all} 条见工作簿“拒绝记录”表",
                         "the first {shown} shown here; all {all} in the workbook's 拒绝记录 sheet"),
    "kinds": ("金额类型", "Amount kind"), "persons": ("符合人数", "Eligible"),
    "undetermined_n": ("待定人数", "Undetermined"), "duplicates": ("重复不计", "Not double-counted"),
    "same_payment": ("与「{other}」为同一笔，只发一次，本行不另计", "The same payment as “{other}”: paid once, not again here"),
    "fin_dup_note": ("重复不计：同一需要由两项救助支付时（如两种途径纳入低保、五保与低保），只计金额较高的一项。待定（缺少信息）的人不计金额。",
                     "Not double-counted: when two lines pay for one need (e.g. 低保 by two routes, 五保 and 低保), only the larger counts. "
                     "Undetermined persons (facts missing) are not costed."),
    "applicants": ("申请人", "Applicants"), "population": ("辖区人口", "Population"),
    "per_capita": ("每人每年（元）", "Per person a year (yuan)"), "months": ("当年生效月数", "Months in force"),
    "year_amount": ("全年（元）", "Year (yuan)"), "row": ("行号", "Row"), "field": ("字段", "Field"),
    "reason": ("原因", "Reason"), "source": ("来源", "Source"), "not_in_force": ("当年无生效值", "no value in force"),
    "since": ("自{day}起", "from {day}"), "chart_alt": ("按县区、出资方的测算图（中值）", "Cost by county and payer (mid)"),
}


def label(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


# The words of audit details (the log keeps them as written) as a page shows them.
AUDIT_WORDS = {
    "rulebook": "规则版本", "determination": "评估", "intake form": "受理表单", "api": "接口", "job": "任务",
    "year": "年度", "file": "文件", "run": "测算", "reform": "方案", "caseload": "台账", "from": "来自",
    "user": "用户", "page": "页", "status": "状态", "shown": "显示", "county": "县区", "checked": "已核对",
    "q": "查询", "json": "数据", "workbook": "工作簿", "update": "更新", "create case": "新建案件",
    "compare": "测算", "saved": "已存案件", "not saved cases": "非已存案件", "unknown user": "不存在的用户",
    "as_of": "截至",
}


def audit_detail(detail: str) -> str:
    """An audit row's detail with its English words in Chinese (rulebook 2d37… → 规则版本 2d37…)."""
    import re
    words = sorted(AUDIT_WORDS, key=len, reverse=True)
    pattern = re.compile(r"(?<![A-Za-z_])(" + "|".join(re.escape(w) for w in words) + r")(?![A-Za-z_])")
    return pattern.sub(lambda m: AUDIT_WORDS[m.group(1)], detail or "")
