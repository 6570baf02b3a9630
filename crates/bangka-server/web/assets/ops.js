// The operations console: support, risk and admins at work. It asks
// `GET /v1/ops/me` what the key may do and offers only that (the server
// checks every call again). Everything goes through the JSON API.
"use strict";

(() => {
  const { el, clear, $, api, t, busy, showFailure, countdown, when } = Bangka;

  Bangka.addText({
    "zh-CN": {
      skip: "跳到正文", title: "Bangka 运营后台", nav_wallet: "钱包", nav_docs: "API 文档", sign_out: "退出", sign_in: "登录",
      signin_h: "登录", signin_intro: "用运营密钥登录（客服 support、风控 risk 或管理员 admin）。创建密钥：bangka keys create --role support", f_key: "运营密钥",
      role: { support: "客服", risk: "风控", admin: "管理员" },
      tab: { tickets: "工单", reviews: "审核", accounts: "账户", maintenance: "维护", status: "状态", charts: "图表", audit: "审计日志", tokens: "查卡号", keys: "密钥" },
      tickets_h: "工单", reviews_h: "审核", accounts_h: "账户查询", maintenance_h: "维护窗口", status_h: "服务状态", charts_h: "图表", audit_h: "审计日志", tokens_h: "查看完整卡号",
      f_status: "状态", any: "全部", refresh: "刷新", f_account: "账户编号", look_up: "查询",
      ticket_status: { open: "待处理", escalated: "已升级", resolved: "已解决", closed: "已关闭" },
      col: { number: "工单号", category: "类别", status: "状态", due: "答复期限", code: "错误码", account: "账户", note: "说明", kind: "类型", statement: "陈述", created: "提交时间", issuer: "发卡行", starts: "开始", ends: "结束", message: "公告", at: "时间", actor: "操作者", action: "操作", subject: "对象", reason: "原因", seq: "序号", rule: "规则", outcome: "结果", count: "次数", card: "卡", attempts: "尝试", rate: "失败率", maintenance: "维护中", phone: "手机", circuit: "银行连接", id: "编号", name: "名称", role: "角色", mode: "模式", made: "创建时间", last_used: "最近使用", expires: "过期时间" },
      circuit_open: "暂停调用至 {time}",
      due_in: "剩 {time}", overdue: "已超时 {time}",
      comment: "内部备注", reply: "回复", internal: "仅内部可见（客户看不到）", conversation: "与客户的对话", no_messages: "还没有对话。",
      from: { holder: "客户", agent: "客服" }, internal_tag: "（内部）", close_reason: "告诉客户为什么无法解决（会发给客户）",
      resolve: "解决", close: "关闭", close_unresolved: "无法解决，告知投诉途径", unlock_account: "解除账户锁定", evidence: "下载证据包",
      f_body: "内容", f_reason: "原因", approve: "通过", reject: "驳回", materials: "材料", requested: "申请改为", on_file: "账户现状", approvable_from: "等待期：最早 {time} 可以通过", events: "记录", context: "上下文",
      attempts_h: "尝试记录", risk_h: "风控决策", locked_until: "锁定至 {time}", not_locked: "未锁定", unlocked: "已解除：{what}",
      maintenance_new: "安排维护窗口", f_issuer: "发卡行（留空表示整个服务）", f_starts: "开始", f_ends: "结束", f_message_zh: "公告（中文）", f_message_en: "公告（英文）", schedule: "安排", cancel_window: "取消",
      chart_rate: "各发卡行绑卡成功率", chart_codes: "失败原因（按错误码）", chart_sms: "验证码短信（本实例）", chart_locks: "风控锁定（本实例）", f_hours: "小时", no_data: "暂无数据。",
      next_page: "下一页", first_page: "回到第一页", f_subject: "对象", f_action: "操作", f_actor: "操作人", filter: "筛选",
      chain_ok: "哈希链完整：{n} 条，链头 {head}", chain_bad: "哈希链在第 {at} 条断开：{why}",
      keys_h: "API 密钥", keys_intro: "与当前控制台密钥同一模式的密钥。密钥只在生成时显示一次，Bangka 只保存它的哈希值。吊销后一秒内所有实例都拒绝它。",
      key_new: "新建密钥", f_role: "角色", f_name: "名称", f_expires: "有效期（如 90d；留空为不过期）", key_create: "新建", key_revoke: "吊销", key_rotate: "轮换（新旧密钥同时有效 24 小时）",
      key_shown_once: "新密钥（只显示这一次，请立即保存）：", key_revoked: "已吊销：{id}", key_revoke_confirm: "吊销密钥 {id}（{name}）？使用它的系统将在一秒内无法再调用接口，且不能撤销。", key_self: "（当前使用的密钥）",
      key_status: { active: "有效", expired: "已过期", revoked: "已吊销" },
      detokenize_intro: "显示支付标记对应的完整卡号。原因会先写入审计日志，再显示卡号。", f_token: "支付标记号", detokenize: "显示卡号", card_number: "卡号：{pan}（审计 {audit}）",
      done: "已完成。",
    },
    en: {
      skip: "Skip to content", title: "Bangka operations", nav_wallet: "Wallet", nav_docs: "API", sign_out: "Sign out", sign_in: "Sign in",
      signin_h: "Sign in", signin_intro: "Sign in with your operator key (support, risk or admin). Create one with: bangka keys create --role support", f_key: "Operator key",
      role: { support: "support", risk: "risk", admin: "admin" },
      tab: { tickets: "Tickets", reviews: "Reviews", accounts: "Accounts", maintenance: "Maintenance", status: "Status", charts: "Charts", audit: "Audit log", tokens: "Detokenize", keys: "Keys" },
      tickets_h: "Tickets", reviews_h: "Reviews", accounts_h: "Account lookup", maintenance_h: "Maintenance windows", status_h: "Service status", charts_h: "Charts", audit_h: "Audit log", tokens_h: "Detokenize",
      f_status: "Status", any: "any", refresh: "Refresh", f_account: "Account id", look_up: "Look up",
      ticket_status: { open: "open", escalated: "escalated", resolved: "resolved", closed: "closed" },
      col: { number: "Ticket", category: "Category", status: "Status", due: "Answer due", code: "Code", account: "Account", note: "Note", kind: "Kind", statement: "Statement", created: "Submitted", issuer: "Issuer", starts: "Starts", ends: "Ends", message: "Announcement", at: "At", actor: "Actor", action: "Action", subject: "Subject", reason: "Reason", seq: "#", rule: "Rule", outcome: "Outcome", count: "Count", card: "Card", attempts: "Attempts", rate: "Failure rate", maintenance: "Maintenance", phone: "Phone", circuit: "Bank link", id: "Id", name: "Name", role: "Role", mode: "Mode", made: "Created", last_used: "Last used", expires: "Expires" },
      circuit_open: "not called until {time}",
      due_in: "{time} left", overdue: "late by {time}",
      comment: "Internal note", reply: "Reply", internal: "Internal only (the holder does not see it)", conversation: "The conversation with the holder", no_messages: "No messages yet.",
      from: { holder: "Holder", agent: "Support" }, internal_tag: " (internal)", close_reason: "Tell the holder why it cannot be resolved (they receive this)",
      resolve: "Resolve", close: "Close", close_unresolved: "Close unresolved (name the complaint routes)", unlock_account: "Unlock the account", evidence: "Download evidence",
      f_body: "Text", f_reason: "Reason", approve: "Approve", reject: "Reject", materials: "Materials", requested: "Asked for", on_file: "On file now", approvable_from: "Waiting period: approvable from {time}", events: "History", context: "Context",
      attempts_h: "Attempts", risk_h: "Risk decisions", locked_until: "Locked until {time}", not_locked: "Not locked", unlocked: "Released: {what}",
      maintenance_new: "Schedule a window", f_issuer: "Issuer (empty: the whole service)", f_starts: "Starts", f_ends: "Ends", f_message_zh: "Announcement (Chinese)", f_message_en: "Announcement (English)", schedule: "Schedule", cancel_window: "Cancel",
      chart_rate: "Bind success rate by issuer", chart_codes: "Failures by code", chart_sms: "Code messages (this instance)", chart_locks: "Risk locks (this instance)", f_hours: "Hours", no_data: "No data yet.",
      next_page: "Next page", first_page: "Back to the first page", f_subject: "About", f_action: "Action", f_actor: "By", filter: "Filter",
      chain_ok: "Hash chain intact: {n} entries, head {head}", chain_bad: "The hash chain breaks at entry {at}: {why}",
      keys_h: "API keys", keys_intro: "Keys of this console key's mode. A key is shown once, when it is made; Bangka keeps only its hash. A revoked key is refused everywhere within a second.",
      key_new: "Create a key", f_role: "Role", f_name: "Name", f_expires: "Expires in (e.g. 90d; empty: never)", key_create: "Create", key_revoke: "Revoke", key_rotate: "Rotate (both keys work for 24 hours)",
      key_shown_once: "The new key (shown only this once; store it now):", key_revoked: "Revoked: {id}", key_revoke_confirm: "Revoke key {id} ({name})? Whatever uses it stops working within a second; this cannot be undone.", key_self: " (the key you are using)",
      key_status: { active: "active", expired: "expired", revoked: "revoked" },
      detokenize_intro: "Shows the full card number behind a token. The reason is kept in the audit log before the number is shown.", f_token: "Token number", detokenize: "Show the card number", card_number: "Card number: {pan} (audit {audit})",
      done: "Done.",
    },
  });

  const TABS = [
    ["tickets", "read_ops"], ["reviews", "read_ops"], ["accounts", "read_ops"], ["charts", "read_ops"],
    ["maintenance", "read_ops"], ["status", "read_ops"], ["audit", "read_ops"], ["tokens", "detokenize"], ["keys", "manage_keys"],
  ];
  const me = { role: null, duties: [] };
  const may = (duty) => me.duties.includes(duty);
  let current = sessionStorage.getItem("bangka.ops.tab") || "tickets";

  function duration(s) {
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    return (d ? d + "d " : "") + (d || h ? h + "h " : "") + m + "m";
  }

  // Under a list's page: "next page" when more follow (the API's has_more;
  // the page after the last item shown), "first page" when not on the first.
  function pager(node, page, after, idOf, load) {
    const box = clear(node);
    if (after) box.append(el("button", { type: "button", class: "link", onclick: () => load(), text: t("first_page") }), " ");
    if (page.has_more && page.data.length) box.append(el("button", { type: "button", class: "link", onclick: () => load(idOf(page.data[page.data.length - 1])), text: t("next_page") }));
  }

  // The query string of a list's page.
  function pageQuery(params, after) {
    const q = new URLSearchParams(params);
    q.set("limit", "50");
    if (after) q.set("starting_after", after);
    return "?" + q.toString();
  }

  function table(node, columns, rows, onRow) {
    clear(node);
    node.append(el("thead", {}, el("tr", {}, columns.map((c) => el("th", { scope: "col", text: t("col." + c[0]) })))));
    const body = el("tbody");
    for (const r of rows) {
      const tr = el("tr", { dataset: r.__data || {} }, columns.map((c) => el("td", {}, c[1](r))));
      if (onRow) {
        tr.tabIndex = 0;
        tr.classList.add("clickable");
        tr.addEventListener("click", () => onRow(r));
        tr.addEventListener("keydown", (e) => e.key === "Enter" && onRow(r));
      }
      body.append(tr);
    }
    node.append(body);
  }

  function download(name, doc) {
    const a = el("a", { href: URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: "application/json" })), download: name });
    document.body.append(a);
    a.click();
    a.remove();
  }

  /// A small inline form: fields [name, label, kind] and a submit button.
  function form(fields, label, go, cls) {
    const f = el("form", { class: "stack inline-form" });
    const inputs = {};
    for (const [name, lab, kind] of fields) {
      inputs[name] = kind === "textarea" ? el("textarea", { required: true, class: "field-" + name }) : el("input", { required: true, class: "field-" + name, autocomplete: "off" });
      f.append(el("label", {}, el("span", { text: t(lab) }), inputs[name]));
    }
    const submit = el("button", { type: "submit", class: cls || "", text: t(label) });
    f.append(submit);
    f.addEventListener("submit", (e) => {
      e.preventDefault();
      busy(submit, () => go(Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.value.trim()]))));
    });
    return f;
  }

  // ---------------------------------------------------------------- sign-in
  async function signIn(key) {
    const r = await api("GET", "/v1/ops/me", undefined, { key });
    if (!r.ok) {
      Bangka.setKey("");
      $("#signin").hidden = false;
      return showFailure($("#signin-result"), r);
    }
    Bangka.setKey(key);
    me.role = r.body.role;
    me.duties = r.body.duties;
    me.key_id = r.body.key_id;
    $("#signin").hidden = true;
    $("#console").hidden = false;
    $("#sign-out").hidden = false;
    $("#who").textContent = t("role." + me.role);
    $("#who").dataset.role = me.role;
    for (const e of document.querySelectorAll("[data-duty]")) if (!may(e.dataset.duty)) e.hidden = true;
    renderTabs();
    open(current);
  }

  function renderTabs() {
    const tabs = clear($("#tabs"));
    for (const [name, duty] of TABS) {
      if (!may(duty)) continue;
      tabs.append(el("button", { type: "button", role: "tab", id: "tab-" + name, "aria-selected": String(name === current), "aria-controls": "panel-" + name, onclick: () => open(name), text: t("tab." + name) }));
    }
  }

  function open(name) {
    if (!TABS.some(([n, d]) => n === name && may(d))) name = "tickets";
    current = name;
    sessionStorage.setItem("bangka.ops.tab", name);
    for (const [n] of TABS) $("#panel-" + n).hidden = n !== name;
    for (const b of $("#tabs").children) b.setAttribute("aria-selected", String(b.id === "tab-" + name));
    ({ tickets: loadTickets, reviews: loadReviews, accounts: () => {}, maintenance: loadMaintenance, status: loadStatus, charts: loadCharts, audit: loadAudit, tokens: () => {}, keys: loadKeys })[name]();
  }

  // ---------------------------------------------------------------- tickets
  async function loadTickets(after) {
    const status = $("#ticket-status").value;
    const r = await api("GET", "/v1/ops/tickets" + pageQuery(status ? { status } : {}, after));
    if (!r.ok) return showFailure($("#ticket-detail"), r);
    pager($("#ticket-pager"), r.body, after, (x) => x.number, loadTickets);
    const rows = r.body.data.map((x) => ({ ...x, __data: { ticket: x.number } }));
    table($("#ticket-table"), [
      ["number", (x) => el("code", { text: x.number })],
      ["status", (x) => t("ticket_status." + x.status)],
      ["category", (x) => x.category],
      ["code", (x) => x.error_code || x.attempt_code || ""],
      ["due", (x) => {
        const span = el("span", { class: "sla" });
        if (x.status === "resolved" || x.status === "closed") span.textContent = when(x.sla_due_at);
        else sla(span, x.sla_due_at);
        return span;
      }],
      ["note", (x) => x.note || ""],
    ], rows, (x) => showTicket(x.number));
  }

  /// The SLA timer: time left, or how late (in red).
  function sla(node, due) {
    const tick = () => {
      const left = Math.round((Date.parse(due) - Date.now()) / 1000);
      node.textContent = left >= 0 ? t("due_in", { time: duration(left) }) : t("overdue", { time: duration(-left) });
      node.classList.toggle("overdue", left < 0);
    };
    tick();
    setInterval(tick, 30000);
  }

  async function showTicket(number) {
    const box = clear($("#ticket-detail"));
    const r = await api("GET", "/v1/ops/tickets/" + encodeURIComponent(number));
    if (!r.ok) return showFailure(box, r);
    const x = r.body;
    const result = el("div", { class: "slot" });
    box.append(el("h3", { text: x.number + " · " + t("ticket_status." + x.status) }),
      el("p", {}, el("span", { text: x.note || "" })),
      el("p", { class: "hint" }, t("col.account") + ": ", el("code", { text: x.account_id || "" }), x.error_code ? [" · ", el("code", { text: x.error_code })] : null));
    box.append(el("h3", { text: t("events") }), el("ul", { class: "plain" }, (x.events || []).map((e) => el("li", {}, el("span", { class: "hint", text: when(e.at) + " · " + e.by + " · " + e.kind + " " }), e.body || ""))));
    box.append(el("details", {}, el("summary", { text: t("context") }), el("pre", { text: JSON.stringify(x.context, null, 2) })));
    const reload = () => { showTicket(number); loadTickets(); };
    const post = (path, body) => async () => {
      const res = await api("POST", "/v1/ops/tickets/" + encodeURIComponent(number) + path, body);
      if (!res.ok) return showFailure(result, res);
      reload();
    };
    // The conversation: what the holder wrote and what agents answered
    // (internal notes marked; the holder sees only the public replies).
    const msgs = x.messages || [];
    box.append(el("h3", { text: t("conversation") }), msgs.length
      ? el("ul", { class: "plain thread" }, msgs.map((m) => el("li", { class: "from-" + m.from + (m.internal ? " internal" : "") },
        el("strong", { text: t("from." + m.from) + (m.internal ? t("internal_tag") : "") }), " · " + when(m.at) + " · " + m.text)))
      : el("p", { class: "hint", text: t("no_messages") }));
    if (x.status !== "closed" && may("handle_tickets")) {
      // A reply goes to the holder (notified) unless marked internal.
      const text = el("textarea", { required: true, class: "field-body", maxlength: 2000 });
      const internal = el("input", { type: "checkbox", class: "field-internal" });
      const submit = el("button", { type: "submit", text: t("reply") });
      const reply = el("form", { class: "stack inline-form reply" }, el("label", {}, el("span", { text: t("f_body") }), text),
        el("label", { class: "check" }, internal, el("span", { text: t("internal") })), submit);
      reply.addEventListener("submit", (ev) => {
        ev.preventDefault();
        busy(submit, post("/reply", { text: text.value.trim(), internal: internal.checked }));
      });
      box.append(reply);
      const actions = el("div", { class: "row" });
      actions.append(el("button", { type: "button", class: "secondary", onclick: (ev) => busy(ev.currentTarget, post("/resolve", { body: t("done") })), text: t("resolve") }));
      actions.append(el("button", { type: "button", class: "secondary", onclick: (ev) => busy(ev.currentTarget, post("/close")), text: t("close") }));
      // Irreversible, and the holder is told the reason: asked for first,
      // in the agent's own words (never the holder's note).
      const closeSlot = el("div", { class: "slot" });
      actions.append(el("button", { type: "button", class: "danger", onclick: () => {
        clear(closeSlot).append(form([["reason", "close_reason", "textarea"]], "close_unresolved", (v) => post("/close", { unresolved: true, reason: v.reason })(), "danger"));
      }, text: t("close_unresolved") }));
      box.append(actions, closeSlot);
    }
    if (x.account_id && may("unlock")) {
      box.append(form([["body", "f_reason", "textarea"]], "unlock_account", async (v) => {
        const res = await api("POST", "/v1/ops/tickets/" + encodeURIComponent(number) + "/unlock", v);
        if (!res.ok) return showFailure(result, res);
        clear(result).append(el("p", { class: "ok", role: "status", text: t("unlocked", { what: (res.body.released || []).join(", ") || "—" }) }));
      }, "unlock-ticket"));
    }
    if (may("handle_tickets")) {
      box.append(el("button", { type: "button", class: "secondary", onclick: async (ev) => busy(ev.currentTarget, async () => {
        const res = await api("GET", "/v1/ops/tickets/" + encodeURIComponent(number) + "/evidence");
        if (!res.ok) return showFailure(result, res);
        download("evidence-" + number + ".json", res.body);
      }), text: t("evidence") }));
    }
    box.append(result);
  }

  // ---------------------------------------------------------------- reviews
  async function loadReviews(after) {
    const r = await api("GET", "/v1/ops/reviews" + pageQuery({}, after));
    if (!r.ok) return showFailure($("#review-detail"), r);
    pager($("#review-pager"), r.body, after, (x) => x.id, loadReviews);
    const rows = r.body.data.map((x) => ({ ...x, __data: { review: x.id } }));
    table($("#review-table"), [
      ["created", (x) => when(x.created_at)],
      ["kind", (x) => x.kind],
      ["status", (x) => x.status],
      ["account", (x) => el("code", { text: x.account_id || "" })],
      ["statement", (x) => x.statement],
    ], rows, showReview);
  }

  function showReview(x) {
    const box = clear($("#review-detail"));
    const result = el("div", { class: "slot" });
    box.append(el("h3", { text: x.kind + " · " + x.status }), el("p", { text: x.statement }),
      el("h3", { text: t("materials") }), el("ul", { class: "plain materials" }, x.materials.map((m) => el("li", {}, m.type + ": ", el("code", { text: m.ref })))));
    if (x.new_phone_masked) box.append(el("p", { text: t("col.phone") + ": " + x.new_phone_masked }));
    // What the decision is about, masked: the values asked for and the account as it is.
    if (x.requested) box.append(el("p", { class: "requested" }, t("requested") + ": " + x.requested.real_name_masked + " · " + x.requested.id_number_masked));
    if (x.account) {
      const a = x.account;
      box.append(el("p", { class: "on-file" }, t("on_file") + ": " + [a.real_name_masked, a.id_number_masked, a.phone_masked, a.kyc_status, a.status + (a.frozen_reason ? " (" + a.frozen_reason + ")" : "")].filter(Boolean).join(" · ")));
    }
    if (x.approvable_from) box.append(el("p", { class: "waiting" }, t("approvable_from", { time: when(x.approvable_from) })));
    if (x.status === "submitted" && may("decide_reviews")) {
      const decide = (verb) => async (v) => {
        const res = await api("POST", "/v1/ops/reviews/" + encodeURIComponent(x.id) + "/" + verb, { reason: v.reason });
        if (!res.ok) return showFailure(result, res);
        clear(result).append(el("p", { class: "ok", role: "status", text: res.body.status + (res.body.released ? " · " + res.body.released.join(", ") : "") }));
        loadReviews();
      };
      box.append(form([["reason", "f_reason", "textarea"]], "approve", decide("approve"), "approve-review"));
      box.append(form([["reason", "f_reason", "textarea"]], "reject", decide("reject"), "danger"));
    }
    box.append(result);
  }

  // ---------------------------------------------------------------- accounts
  async function lookUp(ev) {
    ev.preventDefault();
    const id = $("#account-id").value.trim();
    const box = clear($("#account-detail"));
    const [risk, attempts] = await Promise.all([api("GET", "/v1/ops/accounts/" + encodeURIComponent(id) + "/risk"), api("GET", "/v1/ops/accounts/" + encodeURIComponent(id) + "/attempts?limit=100")]);
    if (!risk.ok) return showFailure(box, risk);
    const result = el("div", { class: "slot" });
    box.append(el("p", { class: risk.body.locked_until ? "bad" : "hint", text: risk.body.locked_until ? t("locked_until", { time: when(risk.body.locked_until) }) : t("not_locked") }));
    if (may("unlock")) {
      box.append(form([["reason", "f_reason", "textarea"]], "unlock_account", async (v) => {
        const r = await api("POST", "/v1/ops/accounts/" + encodeURIComponent(id) + "/unlock", v);
        if (!r.ok) return showFailure(result, r);
        clear(result).append(el("p", { class: "ok", role: "status", text: t("unlocked", { what: r.body.released.join(", ") || "—" }) }));
      }, "unlock-account"));
    }
    box.append(result, el("h3", { text: t("risk_h") }));
    const rt = el("table");
    table(rt, [["at", (d) => when(d.at || d.created_at)], ["rule", (d) => d.rule], ["subject", (d) => d.subject], ["outcome", (d) => d.outcome], ["count", (d) => String(d.count)]], risk.body.decisions);
    box.append(el("div", { class: "table-wrap" }, rt), el("h3", { text: t("attempts_h") }));
    if (attempts.ok) {
      const at = el("table");
      table(at, [["at", (a) => when(a.at || a.created_at)], ["kind", (a) => a.kind], ["code", (a) => el("code", { text: a.code || "ok" })], ["issuer", (a) => a.issuer || ""], ["card", (a) => a.card_masked || ""], ["phone", (a) => a.phone_used_masked || ""]], attempts.body.data);
      box.append(el("div", { class: "table-wrap" }, at));
    }
  }

  // ---------------------------------------------------------------- maintenance & status
  async function loadMaintenance() {
    const r = await api("GET", "/v1/ops/maintenance-windows?limit=100");
    if (!r.ok) return showFailure($("#maintenance-result"), r);
    const rows = r.body.data;
    table($("#maintenance-table"), [
      ["issuer", (w) => w.issuer || "—"], ["starts", (w) => when(w.starts_at)], ["ends", (w) => when(w.ends_at)],
      ["message", (w) => (w.message && (Bangka.language() === "zh-CN" ? w.message["zh-CN"] : w.message.en)) || ""],
      ["action", (w) => (w.id && may("maintenance") ? el("button", { type: "button", class: "link", onclick: async () => {
        const c = await api("POST", "/v1/ops/maintenance-windows/" + encodeURIComponent(w.id) + "/cancel");
        if (!c.ok) return showFailure($("#maintenance-result"), c);
        loadMaintenance();
      }, text: t("cancel_window") }) : "")],
    ], rows);
  }

  async function schedule(ev) {
    ev.preventDefault();
    const iso = (v) => new Date(v).toISOString();
    const body = { starts_at: iso($("#mw-starts").value), ends_at: iso($("#mw-ends").value), message: { "zh-CN": $("#mw-zh").value, en: $("#mw-en").value } };
    if ($("#mw-issuer").value.trim()) body.issuer = $("#mw-issuer").value.trim();
    const r = await api("POST", "/v1/ops/maintenance-windows", body);
    if (!r.ok) return showFailure($("#maintenance-result"), r);
    clear($("#maintenance-result"));
    loadMaintenance();
  }

  async function loadStatus() {
    const box = clear($("#status-body"));
    const r = await api("GET", "/v1/status");
    if (!r.ok) return showFailure(box, r);
    const tb = el("table");
    table(tb, [["issuer", (i) => i.id], ["maintenance", (i) => (i.in_maintenance ? "●" : "")], ["attempts", (i) => String(i.bind_attempts ?? i.attempts ?? "")], ["rate", (i) => (i.bind_failure_rate == null ? "" : Math.round(i.bind_failure_rate * 100) + "%")], ["circuit", (i) => (i.circuit_open_until ? t("circuit_open", { time: when(i.circuit_open_until) }) : "")]], r.body.issuers);
    box.append(el("div", { class: "table-wrap" }, tb), el("details", {}, el("summary", { text: "JSON" }), el("pre", { text: JSON.stringify(r.body, null, 2) })));
  }

  // ---------------------------------------------------------------- charts
  const PALETTE = ["#0b5cab", "#d9480f", "#2b8a3e", "#862e9c", "#e67700", "#1098ad", "#c2255c", "#5c940d", "#364fc7", "#a61e4d"];
  const SVG = "http://www.w3.org/2000/svg";
  const svg = (tag, attrs, ...children) => {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  };

  function legend(names) {
    return el("div", { class: "legend" }, names.map((n, i) => {
      const s = el("span", { text: n });
      s.style.setProperty("--swatch", PALETTE[i % PALETTE.length]);
      return s;
    }));
  }

  /// Lines of success rate (0–100 %) per issuer over the buckets.
  function rateChart(stats) {
    const starts = [...new Set(stats.series.map((b) => b.start))].sort();
    const issuers = [...new Set(stats.series.map((b) => b.issuer))].sort();
    if (!starts.length) return el("p", { class: "hint", text: t("no_data") });
    const W = 640, H = 220, L = 36, B = 24, x = (i) => L + (starts.length === 1 ? (W - L) / 2 : (i * (W - L - 10)) / (starts.length - 1)), y = (p) => 8 + (1 - p) * (H - B - 8);
    const g = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": t("chart_rate") });
    for (const p of [0, 0.5, 1]) g.append(svg("line", { x1: L, x2: W, y1: y(p), y2: y(p), stroke: "#d9dee7" }), svg("text", { x: 2, y: y(p) + 4 }, Math.round(p * 100) + "%"));
    issuers.forEach((iss, k) => {
      const pts = starts.map((s, i) => {
        const b = stats.series.find((b) => b.start === s && b.issuer === iss);
        return b && b.attempts ? [x(i), y(b.succeeded / b.attempts), b] : null;
      }).filter(Boolean);
      const color = PALETTE[k % PALETTE.length];
      if (pts.length > 1) g.append(svg("polyline", { points: pts.map((p) => p[0] + "," + p[1]).join(" "), fill: "none", stroke: color, "stroke-width": 2 }));
      for (const [px, py, b] of pts) g.append(svg("circle", { cx: px, cy: py, r: 3, fill: color }, svg("title", {}, `${iss} ${when(b.start)}: ${b.succeeded}/${b.attempts}`)));
    });
    g.append(svg("text", { x: L, y: H - 6 }, when(starts[0])), svg("text", { x: W - 120, y: H - 6 }, when(starts[starts.length - 1])));
    return el("div", { dataset: { points: String(stats.series.length) } }, g, legend(issuers));
  }

  /// Stacked bars: per bucket, the failures split by code.
  function codeChart(stats) {
    const starts = [...new Set(stats.series.map((b) => b.start))].sort();
    const codes = stats.failures_by_code.map((c) => c.code);
    if (!codes.length) return el("p", { class: "hint", text: t("no_data") });
    const per = starts.map((s) => {
      const m = {};
      for (const b of stats.series.filter((b) => b.start === s)) for (const f of b.failures) m[f.code] = (m[f.code] || 0) + f.count;
      return m;
    });
    const max = Math.max(1, ...per.map((m) => Object.values(m).reduce((a, b) => a + b, 0)));
    const W = 640, H = 220, B = 20, bw = Math.max(4, Math.min(40, (W - 40) / starts.length - 4));
    const g = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": t("chart_codes") });
    g.append(svg("text", { x: 2, y: 12 }, String(max)));
    per.forEach((m, i) => {
      let top = H - B;
      codes.forEach((c, k) => {
        const n = m[c] || 0;
        if (!n) return;
        const h = (n / max) * (H - B - 16);
        top -= h;
        g.append(svg("rect", { x: 36 + i * (bw + 4), y: top, width: bw, height: h, fill: PALETTE[k % PALETTE.length] }, svg("title", {}, `${c}: ${n}`)));
      });
    });
    const total = stats.failures_by_code.map((c) => c.code + " " + c.count);
    return el("div", { dataset: { total: String(stats.failures_by_code.reduce((a, c) => a + c.count, 0)) } }, g, legend(codes), el("p", { class: "hint", text: total.join(" · ") }));
  }

  /// Horizontal bars of counter values read from /metrics.
  function bars(values, label) {
    const entries = Object.entries(values);
    if (!entries.length) return el("p", { class: "hint", text: t("no_data") });
    const max = Math.max(1, ...entries.map(([, v]) => v));
    const W = 640, row = 22, g = svg("svg", { viewBox: `0 0 ${W} ${entries.length * row + 4}`, class: "chart", role: "img", "aria-label": label });
    entries.forEach(([k, v], i) => {
      g.append(svg("text", { x: 0, y: i * row + 15 }, k), svg("rect", { x: 200, y: i * row + 4, width: ((W - 260) * v) / max, height: 14, fill: PALETTE[i % PALETTE.length] }), svg("text", { x: 204 + ((W - 260) * v) / max, y: i * row + 15 }, String(v)));
    });
    return g;
  }

  function counters(text, name, label) {
    const out = {};
    for (const line of text.split("\n")) {
      if (!line.startsWith(name + "{")) continue;
      const m = line.match(/^[^{]+\{(.*)\} ([0-9.e+]+)$/);
      if (!m) continue;
      const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
      const k = label(labels);
      out[k] = (out[k] || 0) + Number(m[2]);
    }
    return out;
  }

  async function loadCharts() {
    const [stats, metrics] = await Promise.all([api("GET", "/v1/ops/stats/binds?hours=" + $("#chart-hours").value), fetch("/metrics").then((r) => r.text()).catch(() => "")]);
    if (!stats.ok) return showFailure($("#chart-rate"), stats);
    clear($("#chart-rate")).append(rateChart(stats.body));
    clear($("#chart-codes")).append(codeChart(stats.body));
    clear($("#chart-sms")).append(bars(counters(metrics, "bangka_otp_codes_total", (l) => l.outcome), t("chart_sms")));
    clear($("#chart-locks")).append(bars(counters(metrics, "bangka_risk_locks_total", (l) => l.scope + " · " + l.rule), t("chart_locks")));
  }

  // ---------------------------------------------------------------- keys
  async function loadKeys() {
    const r = await api("GET", "/v1/ops/keys?limit=100");
    if (!r.ok) return showFailure($("#key-result"), r);
    const rows = r.body.data.map((k) => ({ ...k, __data: { key: k.id } }));
    table($("#keys-table"), [
      ["id", (k) => el("code", { text: k.id })],
      ["name", (k) => (k.name || "") + (k.id === me.key_id ? t("key_self") : "")],
      ["role", (k) => k.role],
      ["mode", (k) => k.mode],
      ["status", (k) => t("key_status." + k.status) + (k.replaced_by ? " → " + k.replaced_by : "")],
      ["made", (k) => when(k.created_at)],
      ["last_used", (k) => (k.last_used_at ? when(k.last_used_at) : "-")],
      ["expires", (k) => (k.expires_at ? when(k.expires_at) : "-")],
      ["action", (k) => k.status !== "active" ? "" : el("span", {},
        el("button", { type: "button", class: "link rotate-key", onclick: () => keyChange(k, "rotate"), text: t("key_rotate") }), " ",
        el("button", { type: "button", class: "link danger revoke-key", onclick: () => keyChange(k, "revoke"), text: t("key_revoke") }))],
    ], rows);
  }

  /// The key itself, shown once in the answer that made it.
  function showNewKey(body) {
    clear($("#key-result")).append(el("p", { class: "ok", role: "status" }, t("key_shown_once") + " ", el("code", { class: "new-key", text: body.key })));
  }

  async function keyChange(k, verb) {
    // Revoking cannot be undone and stops whatever uses the key: asked first.
    if (verb === "revoke" && !window.confirm(t("key_revoke_confirm", { id: k.id, name: k.name || k.role }))) return;
    const r = await api("POST", "/v1/ops/keys/" + encodeURIComponent(k.id) + "/" + verb);
    if (!r.ok) return showFailure($("#key-result"), r);
    if (verb === "rotate") showNewKey(r.body);
    else clear($("#key-result")).append(el("p", { class: "ok", role: "status", text: t("key_revoked", { id: k.id }) }));
    loadKeys();
  }

  async function createKey(ev) {
    ev.preventDefault();
    const body = { role: $("#key-role").value };
    if ($("#key-name").value.trim()) body.name = $("#key-name").value.trim();
    if ($("#key-expires").value.trim()) body.expires_in = $("#key-expires").value.trim();
    const r = await api("POST", "/v1/ops/keys", body);
    if (!r.ok) return showFailure($("#key-result"), r);
    showNewKey(r.body);
    $("#key-form").reset();
    loadKeys();
  }

  // ---------------------------------------------------------------- audit & tokens
  // Who acted, as people know them: a key by its name and role, a holder
  // session as the holder; the id beside it for searching.
  function actorOf(e) {
    const who = [e.actor_name, e.actor_role].filter(Boolean).join(" · ");
    return who ? el("span", {}, who + " ", el("code", { class: "hint", text: e.actor })) : el("code", { text: e.actor });
  }

  // Filters: each one given must match (an account, card or ticket id; an
  // action like binding.freeze; a key id). Read when the list is loaded,
  // and kept for its next pages (a cursor belongs to the filtered list).
  function auditFilter() {
    const f = {};
    for (const k of ["subject", "action", "actor"]) {
      const v = $("#audit-" + k).value.trim();
      if (v) f[k] = v;
    }
    return f;
  }

  async function loadAudit(after, filter) {
    const f = filter || auditFilter();
    const r = await api("GET", "/v1/ops/audit" + pageQuery(f, after));
    if (!r.ok) return showFailure($("#audit-chain"), r);
    pager($("#audit-pager"), r.body, after, (e) => e.id, (next) => loadAudit(next, f));
    const c = r.body.chain;
    const p = $("#audit-chain");
    p.textContent = c.intact ? t("chain_ok", { n: c.entries, head: c.head.slice(0, 16) + "…" }) : t("chain_bad", { at: c.broken_entry, why: c.problem });
    p.className = c.intact ? "ok" : "bad";
    table($("#audit-table"), [["seq", (e) => (e.seq == null ? "…" : String(e.seq))], ["at", (e) => when(e.at)], ["actor", (e) => actorOf(e)], ["action", (e) => e.action], ["subject", (e) => el("code", { text: e.subject })], ["reason", (e) => e.reason || ""]], r.body.data);
  }

  async function detokenize(ev) {
    ev.preventDefault();
    const r = await api("POST", "/v1/ops/detokenize", { token_number: $("#dt-token").value.trim(), reason: $("#dt-reason").value.trim() });
    if (!r.ok) return showFailure($("#detokenize-result"), r);
    clear($("#detokenize-result")).append(el("p", { role: "status", text: t("card_number", { pan: r.body.card_number, audit: r.body.audit_id }) }));
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("#signin-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      busy(ev.submitter || $("#signin-form button"), () => signIn($("#signin-key").value.trim()));
    });
    $("#sign-out").addEventListener("click", () => {
      Bangka.setKey("");
      location.reload();
    });
    $("#ticket-status").addEventListener("change", () => loadTickets());
    $("#audit-filter").addEventListener("submit", (ev) => {
      ev.preventDefault();
      loadAudit();
    });
    $("#tickets-refresh").addEventListener("click", () => loadTickets());
    $("#reviews-refresh").addEventListener("click", () => loadReviews());
    $("#charts-refresh").addEventListener("click", loadCharts);
    $("#chart-hours").addEventListener("change", loadCharts);
    $("#account-form").addEventListener("submit", lookUp);
    $("#maintenance-form").addEventListener("submit", schedule);
    $("#detokenize-form").addEventListener("submit", detokenize);
    $("#key-form").addEventListener("submit", createKey);
    Bangka.onLanguage(() => {
      if (me.role) {
        $("#who").textContent = t("role." + me.role);
        renderTabs();
        open(current);
      }
    });
    if (Bangka.currentKey()) signIn(Bangka.currentKey());
    else $("#signin").hidden = false;
  });
})();
