/* The agents' console: a live inbox and one open conversation, over /ws/console/. No third-party code.
   Every text from customers, the bot or colleagues is set with textContent: nothing they write runs. */
(function () {
  "use strict";

  // What agents read, as written here in English; the page carries the translations of every language
  // (locale/*/LC_MESSAGES/djangojs.po, context "console"), so switching language needs no reload.
  var catalogs = JSON.parse(document.getElementById("hc-catalogs").textContent), catalog = {};
  function pgettext(context, text) { return catalog[context + "\u0004" + text] || text; }
  function strings() {
    return {
      title: pgettext("console", "Helpdesk console"), admin: pgettext("console", "Admin"),
      logout: pgettext("console", "Sign out"), inbox: pgettext("console", "Inbox"),
      filter_active: pgettext("console", "Active"), compare: pgettext("console", "Compare profiles"),
      dashboard: pgettext("console", "Dashboard"), language: pgettext("console", "Language"),
      status: pgettext("console", "Status"), conversations: pgettext("console", "Conversations"),
      waiting_human: pgettext("console", "Waiting for a human"), human: pgettext("console", "With an agent"),
      bot: pgettext("console", "With the bot"), resolved: pgettext("console", "Resolved"),
      search: pgettext("console", "Search messages or #id"),
      pick: pgettext("console", "Pick a conversation (j / k to move, Enter to open)."),
      take_over: pgettext("console", "Take over"), hand_back: pgettext("console", "Hand back to bot"),
      resolve: pgettext("console", "Resolve"), assign: pgettext("console", "Assign to…"),
      reply: pgettext("console", "Reply"), note: pgettext("console", "Private note"), send: pgettext("console", "Send"),
      draft: pgettext("console", "Draft with the bot"), customer_typing: pgettext("console", "The customer is typing…"),
      compose: pgettext("console", "Write a reply… (/shortcut for a canned response, Enter sends)"),
      connected: "", offline: pgettext("console", "Connection lost — reconnecting…"),
      waiting_for: pgettext("console", "waiting {t}"),
      confidence: pgettext("console", "confidence"), signals: pgettext("console", "Signals"),
      sources: pgettext("console", "Sources"), reasoning: pgettext("console", "Reasoning"), cited: pgettext("console", "cited"),
      customer: pgettext("console", "Customer"), agent_role: pgettext("console", "Agent"), system: pgettext("console", "Notice"),
      note_role: pgettext("console", "Note"), bot_role: pgettext("console", "Bot"),
      new_handoff: pgettext("console", "New conversation waiting for a human"),
      taken: pgettext("console", "{name} has this conversation"),
      conversation: pgettext("console", "Conversation #{id}"), email: pgettext("console", "email: {e}"),
      csat: pgettext("console", "CSAT {s}/5"), name: pgettext("console", "name: {n}"),
      feedback_up: pgettext("console", "Customer: helpful"), feedback_down: pgettext("console", "Customer: not helpful"),
      load_more: pgettext("console", "Load more"),
      reasons: {
        low_confidence: pgettext("console", "low confidence"), customer_request: pgettext("console", "customer asked"),
        no_knowledge: pgettext("console", "no knowledge"), model_error: pgettext("console", "model error"),
        negative_feedback: pgettext("console", "thumbs down"), rule: pgettext("console", "rule"),
        prompt_leak: pgettext("console", "reply withheld (leaked its instructions)"),
        unanswered: pgettext("console", "no reply in time")
      }
    };
  }
  var root = document.getElementById("console");
  var langSelect = document.getElementById("hc-lang");
  var lang = localStorage.getItem("helpdesk-console-lang") ||
    ((navigator.language || "en").toLowerCase().indexOf("zh") === 0 ? "zh-hans" : "en");
  var t = strings();
  var $ = function (id) { return document.getElementById(id); };
  var state = { ws: null, retry: 0, items: {}, order: [], openId: null, selected: null, me: null, agents: [],
                canned: [], streams: {}, typingTimer: null, typingSent: false, seenWaiting: {}, started: false,
                next: null };

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }
  function fmt(s, values) { return s.replace(/\{(\w+)\}/g, function (_, k) { return values[k]; }); }
  function translate() {
    catalog = catalogs[lang] || {};
    t = strings();
    document.documentElement.lang = lang;
    document.title = t.title;
    langSelect.value = lang;
    document.querySelectorAll("[data-i18n]").forEach(function (n) { n.textContent = t[n.getAttribute("data-i18n")]; });
    // The report pages are rendered on the server: they open in the console's language.
    document.querySelectorAll("[data-lang-href]").forEach(function (n) {
      n.href = n.getAttribute("data-lang-href") + "?lang=" + encodeURIComponent(lang);
    });
    document.querySelectorAll("[data-i18n-placeholder]").forEach(function (n) {
      n.placeholder = t[n.getAttribute("data-i18n-placeholder")];
    });
    document.querySelectorAll("[data-i18n-label]").forEach(function (n) {
      n.setAttribute("aria-label", t[n.getAttribute("data-i18n-label")]);
    });
    renderList();
    renderHead();
  }
  langSelect.addEventListener("change", function () {
    lang = langSelect.value; localStorage.setItem("helpdesk-console-lang", lang); translate();
  });

  // --- connection ---------------------------------------------------------------------
  function send(frame) { if (state.ws && state.ws.readyState === 1) state.ws.send(JSON.stringify(frame)); }
  function connect() {
    var ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/ws/console/");
    state.ws = ws;
    ws.onopen = function () { state.retry = 0; $("hc-connection").textContent = t.connected; };
    ws.onmessage = function (ev) { handle(JSON.parse(ev.data)); };
    ws.onclose = function (ev) {
      if (ev.code === 4403) { location.href = "/console/login/?next=/console/"; return; }
      $("hc-connection").textContent = t.offline;
      var delay = Math.min(30000, 500 * Math.pow(2, state.retry++));
      setTimeout(connect, delay);
    };
  }
  setInterval(function () { send({ type: "ping" }); }, 30000);

  function handle(frame) {
    switch (frame.type) {
      case "hello":
        state.me = frame.agent; state.agents = frame.agents; state.canned = frame.canned;
        if (state.openId) send({ type: "open", conversation_id: state.openId });
        break;
      case "inbox":
        // A first page replaces the list; a later one ("load more", sent with a cursor) adds to it.
        if (!frame.cursor) state.items = {};
        state.next = frame.next || null;
        $("hc-more").hidden = !state.next;
        $("hc-more").disabled = false;
        frame.items.forEach(function (item) { state.items[item.id] = item; if (item.status === "waiting_human") state.seenWaiting[item.id] = true; });
        state.started = true;
        renderList();
        break;
      case "inbox_item": onInboxItem(frame.item); break;
      case "conversation": renderConversation(frame); break;
      case "message": case "done": case "note":
        if (frame.conversation_id === state.openId) upsertMessage(frame.message); break;
      case "delta": if (frame.conversation_id === state.openId) onDelta(frame); break;
      case "status":
        if (frame.conversation_id === state.openId && state.items[frame.conversation_id]) {
          var item = state.items[frame.conversation_id];
          item.status = frame.status;
          item.agent = frame.agent ? { name: frame.agent.name } : null;
          renderHead();
        }
        break;
      case "draft":
        if (frame.conversation_id === state.openId) {
          $("hc-draft").disabled = false;
          if (frame.error) { alert(frame.error); break; }
          $("hc-text").value = frame.text;
          document.querySelector('input[name="mode"][value="reply"]').checked = true;
          $("hc-text").focus();
        }
        break;
      case "typing":
        if (frame.conversation_id === state.openId && frame.who === "customer") $("hc-typing").hidden = !frame.active;
        break;
      case "error":
        if (frame.code === "taken") alert(fmt(t.taken, { name: frame.agent }));
        else if (window.console) console.warn("console:", frame.code, frame.detail);
        break;
    }
  }

  // --- inbox ----------------------------------------------------------------------------
  function matchesFilter(item) {
    var status = $("hc-status").value;
    return status ? item.status === status : item.status !== "resolved";
  }
  function sortKey(item) {
    // The server's order: waiting (longest first), mine, colleagues', then the bot's and resolved (recent first).
    var mine = item.agent && state.me && item.agent.id === state.me.id;
    var rank = { waiting_human: 0, human: mine ? 1 : 2, bot: 3, resolved: 3 }[item.status];
    var when = item.status === "waiting_human" ? Date.parse(item.handoff_at || item.created_at)
      : -Date.parse(item.last_message_at || item.created_at);
    return [rank, when];
  }
  function since(iso) {
    var s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    return s < 60 ? s + "s" : s < 3600 ? Math.round(s / 60) + "m" : Math.round(s / 3600) + "h";
  }
  function renderList() {
    var list = $("hc-list");
    var items = Object.keys(state.items).map(function (k) { return state.items[k]; }).filter(matchesFilter);
    items.sort(function (a, b) { var x = sortKey(a), y = sortKey(b); return x[0] - y[0] || x[1] - y[1]; });
    state.order = items.map(function (i) { return i.id; });
    list.textContent = "";
    items.forEach(function (item) {
      var li = el("li", "hc-item hc-" + item.status);
      li.setAttribute("role", "option");
      li.setAttribute("data-id", String(item.id));
      li.setAttribute("aria-selected", String(item.id === state.selected));
      li.tabIndex = -1;
      var top = el("div", "hc-item-top");
      top.appendChild(el("strong", null, "#" + item.id));
      if (item.contact_name) top.appendChild(el("span", "hc-contact", item.contact_name));
      top.appendChild(el("span", "hc-badge hc-badge-" + item.status, t[item.status]));
      if (item.status === "waiting_human") {
        top.appendChild(el("span", "hc-reason", (t.reasons[item.handoff_reason] || item.handoff_reason || "")));
        top.appendChild(el("span", "hc-wait", fmt(t.waiting_for, { t: since(item.handoff_at || item.created_at) })));
      }
      if (item.agent) top.appendChild(el("span", "hc-agent", item.agent.name));
      li.appendChild(top);
      if (item.last_message) li.appendChild(el("div", "hc-excerpt", item.last_message.excerpt));
      li.addEventListener("click", function () { openConversation(item.id); });
      list.appendChild(li);
    });
  }
  setInterval(renderList, 15000);  // waiting times
  function onInboxItem(item) {
    var before = state.items[item.id];
    state.items[item.id] = item;
    if (item.status === "waiting_human" && !state.seenWaiting[item.id] && state.started) notify(item);
    state.seenWaiting[item.id] = item.status === "waiting_human";
    if (before && before.status === "waiting_human" && item.status !== "waiting_human") delete state.seenWaiting[item.id];
    renderList();
    if (item.id === state.openId) renderHead();
  }

  // --- notifications: visible, audible, and the browser's own where allowed -------------------
  function notify(item) {
    // The title keeps the dot until the agent is back at the console (a key, a click), so it is not missed.
    document.title = "● " + t.new_handoff;
    var banner = $("hc-connection");
    banner.textContent = t.new_handoff + " (#" + item.id + ")";
    banner.classList.add("hc-alert");
    setTimeout(function () { banner.classList.remove("hc-alert"); banner.textContent = ""; }, 6000);
    try {
      var audio = new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = 880; gain.gain.value = 0.08;
      osc.connect(gain); gain.connect(audio.destination); osc.start(); osc.stop(audio.currentTime + 0.25);
    } catch (e) { /* no audio device */ }
    if (window.Notification && Notification.permission === "granted") {
      new Notification(t.new_handoff, { body: "#" + item.id + " " + ((item.last_message || {}).excerpt || "") });
    }
  }
  ["keydown", "click"].forEach(function (type) {
    document.addEventListener(type, function () { if (document.title !== t.title) document.title = t.title; });
  });
  document.addEventListener("click", function ask() {
    if (window.Notification && Notification.permission === "default") Notification.requestPermission();
    document.removeEventListener("click", ask);
  });

  // --- one conversation -----------------------------------------------------------------
  function openConversation(id) {
    state.selected = id;
    send({ type: "open", conversation_id: id });
  }
  function renderConversation(frame) {
    state.openId = frame.conversation.id;
    state.selected = state.openId;
    state.items[state.openId] = frame.conversation;
    state.streams = {};
    $("hc-empty").hidden = true;
    $("hc-open").hidden = false;
    $("hc-typing").hidden = true;
    $("hc-messages").textContent = "";
    frame.messages.forEach(upsertMessage);
    renderHead();
    renderList();
  }
  function renderHead() {
    var item = state.items[state.openId];
    if (!item) return;
    $("hc-title").textContent = fmt(t.conversation, { id: item.id });
    var state_text = t[item.status] + (item.agent ? " · " + item.agent.name : "");
    if (item.contact_name) state_text += " · " + fmt(t.name, { n: item.contact_name });
    if (item.contact_email) state_text += " · " + fmt(t.email, { e: item.contact_email });
    if (item.csat_score) state_text += " · " + fmt(t.csat, { s: item.csat_score }) + (item.csat_comment ? " “" + item.csat_comment + "”" : "");
    $("hc-state").textContent = state_text;
    var mine = item.status === "human" && item.agent && state.me && item.agent.name === state.me.name;
    $("hc-take").hidden = mine || item.status === "resolved";
    $("hc-back").hidden = !mine;
    $("hc-resolve").hidden = item.status === "resolved";
    var assign = $("hc-assign");
    assign.textContent = "";
    assign.appendChild(el("option", null, t.assign)).value = "";
    state.agents.forEach(function (a) { if (!state.me || a.id !== state.me.id) assign.appendChild(el("option", null, a.name)).value = String(a.id); });
  }
  function roleLabel(role) {
    return { customer: t.customer, bot: t.bot_role, agent: t.agent_role, system: t.system, note: t.note_role }[role] || role;
  }
  function upsertMessage(m) {
    var list = $("hc-messages");
    var li = list.querySelector('[data-id="' + m.id + '"]') || el("li");
    li.className = "hc-msg hc-role-" + m.role + " hc-status-" + m.status;
    li.setAttribute("data-id", String(m.id));
    li.textContent = "";
    var head = el("div", "hc-msg-head");
    head.appendChild(el("span", "hc-role", roleLabel(m.role) + (m.author ? " · " + m.author : (m.agent ? " · " + m.agent.name : ""))));
    if (m.role === "bot" && m.confidence != null) {
      var level = m.confidence >= 0.75 ? "high" : m.confidence >= 0.5 ? "mid" : "low";
      head.appendChild(el("span", "hc-conf hc-conf-" + level, t.confidence + " " + m.confidence.toFixed(2)));
    }
    if (m.answer_source && m.answer_source !== "llm") head.appendChild(el("span", "hc-badge", m.answer_source.toUpperCase()));
    li.appendChild(head);
    var body = el("div", "hc-body", m.content);
    li.appendChild(body);
    if (m.role === "bot") {
      if (m.sources && m.sources.length) {
        var sources = el("div", "hc-sources");
        sources.appendChild(el("span", null, t.sources + ": "));
        m.sources.forEach(function (s) {
          var a = el("a", s.cited ? "hc-cited" : "", "[" + s.n + "] " + s.title + (s.heading ? " › " + s.heading : ""));
          if (typeof s.article_id === "number") a.href = "/admin/knowledge/article/" + s.article_id + "/change/";
          a.target = "_blank"; a.rel = "noopener";
          if (s.cited) a.title = t.cited;
          sources.appendChild(a);
        });
        li.appendChild(sources);
      }
      if (m.feedback) {
        var vote = el("div", "hc-feedback hc-feedback-" + (m.feedback.rating > 0 ? "up" : "down"),
          m.feedback.rating > 0 ? t.feedback_up : t.feedback_down);
        if (m.feedback.comment) vote.appendChild(el("q", null, m.feedback.comment));
        li.appendChild(vote);
      }
      if (m.confidence_signals && Object.keys(m.confidence_signals).length) {
        var sig = el("details", "hc-details");
        sig.appendChild(el("summary", null, t.signals));
        sig.appendChild(el("pre", null, JSON.stringify(m.confidence_signals, null, 1)));
        li.appendChild(sig);
      }
      if (m.reasoning) {
        var r = el("details", "hc-details");
        r.appendChild(el("summary", null, t.reasoning));
        r.appendChild(el("pre", null, m.reasoning));
        li.appendChild(r);
      }
    }
    if (!li.parentNode) list.appendChild(li);
    list.scrollTop = list.scrollHeight;
    return li;
  }
  function onDelta(frame) {
    var stream = state.streams[frame.message_id] || (state.streams[frame.message_id] = { seq: -1, text: "" });
    // seq 0 starts the text (over): a reply whose worker died is generated again, replacing its partial text.
    if (frame.seq === 0) { stream.seq = -1; stream.text = ""; }
    if (frame.seq !== stream.seq + 1) return;  // a missed piece: "done" brings the whole text
    stream.seq = frame.seq; stream.text += frame.text;
    upsertMessage({ id: frame.message_id, role: "bot", status: "streaming", content: stream.text });
  }

  // --- actions --------------------------------------------------------------------------------
  function act(type, extra) {
    if (state.openId) send(Object.assign({ type: type, conversation_id: state.openId }, extra || {}));
  }
  $("hc-take").addEventListener("click", function () { act("take_over"); });
  $("hc-draft").addEventListener("click", function () { $("hc-draft").disabled = true; act("draft"); });
  $("hc-back").addEventListener("click", function () { act("hand_back"); });
  $("hc-resolve").addEventListener("click", function () { act("resolve"); });
  $("hc-assign").addEventListener("change", function (e) {
    if (e.target.value) act("assign", { agent_id: parseInt(e.target.value, 10) });
  });
  $("hc-status").addEventListener("change", function () { send({ type: "inbox", status: $("hc-status").value, search: $("hc-search").value }); });
  $("hc-more").addEventListener("click", function () {
    if (!state.next) return;
    $("hc-more").disabled = true;
    send({ type: "inbox", status: $("hc-status").value, search: $("hc-search").value, cursor: state.next });
  });
  var searchTimer = null;
  $("hc-search").addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () { send({ type: "inbox", status: $("hc-status").value, search: $("hc-search").value }); }, 250);
  });

  var text = $("hc-text");
  function mode() { return document.querySelector('input[name="mode"]:checked').value; }
  function submit() {
    var value = text.value.trim();
    if (!value || !state.openId) return;
    if (mode() === "note") act("note", { text: value });
    else act("reply", { text: value, client_id: "a-" + Date.now().toString(36) + Math.random().toString(36).slice(2, 8) });
    text.value = "";
    stopTyping();
    $("hc-canned").hidden = true;
  }
  $("hc-form").addEventListener("submit", function (e) { e.preventDefault(); submit(); });
  function stopTyping() {
    clearTimeout(state.typingTimer);
    if (state.typingSent) { act("typing", { active: false }); state.typingSent = false; }
  }
  text.addEventListener("input", function () {
    if (mode() === "reply" && !state.typingSent) { act("typing", { active: true }); state.typingSent = true; }
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(stopTyping, 2500);
    showCanned();
  });
  function cannedMatches() {
    var m = /^\/(\S*)$/.exec(text.value);
    if (!m) return [];
    return state.canned.filter(function (c) { return c.shortcut.indexOf(m[1]) === 0; });
  }
  function showCanned() {
    var box = $("hc-canned"), matches = cannedMatches();
    box.textContent = "";
    box.hidden = !matches.length;
    matches.forEach(function (c) {
      var li = el("li", null, "/" + c.shortcut + " — " + c.title);
      li.addEventListener("mousedown", function (e) { e.preventDefault(); insertCanned(c); });
      box.appendChild(li);
    });
  }
  function insertCanned(c) { text.value = c.body; $("hc-canned").hidden = true; text.focus(); }
  text.addEventListener("keydown", function (e) {
    if ((e.key === "Tab" || e.key === " ") && cannedMatches().length) { e.preventDefault(); insertCanned(cannedMatches()[0]); return; }
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
    if (e.key === "Escape") { text.blur(); }
  });

  // --- keyboard: j / k (or arrows) move, Enter opens, t takes over, r replies ----------------------------
  document.addEventListener("keydown", function (e) {
    var tag = (e.target.tagName || "").toLowerCase();
    if (tag === "textarea" || tag === "input" || tag === "select" || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "Enter" && tag === "button") return;  // the button's own action (e.g. "Load more")
    var index = state.order.indexOf(state.selected);
    if (e.key === "j" || e.key === "ArrowDown") { state.selected = state.order[Math.min(state.order.length - 1, index + 1)]; renderList(); focusSelected(); e.preventDefault(); }
    else if (e.key === "k" || e.key === "ArrowUp") { state.selected = state.order[Math.max(0, index - 1)]; renderList(); focusSelected(); e.preventDefault(); }
    else if (e.key === "Enter" && state.selected) { openConversation(state.selected); }
    else if (e.key === "t") { act("take_over"); }
    else if (e.key === "r") { text.focus(); e.preventDefault(); }
  });
  function focusSelected() {
    var li = document.querySelector('.hc-item[data-id="' + state.selected + '"]');
    if (li) li.focus();
  }

  translate();
  connect();
})();
