/*
 * Helpdesk chat widget: one <script> tag, no build step, no third-party code.
 *   <script src="https://HOST/static/widget.js" data-helpdesk-url="https://HOST" async></script>
 * It lives in a shadow root so the host page's CSS cannot reach it, keeps its
 * conversation token in localStorage so a reload continues the conversation,
 * and streams replies over the websocket protocol of DESIGN.md.
 * Text is always inserted with textContent: nothing a customer, agent or the
 * model writes is ever parsed as HTML.
 */
(function () {
  "use strict";
  if (window.Helpdesk && window.Helpdesk._loaded) return;

  var script = document.currentScript || document.querySelector("script[data-helpdesk-url]");
  var base = ((script && script.getAttribute("data-helpdesk-url")) || (script ? new URL(script.src).origin : location.origin)).replace(/\/+$/, "");
  var settings = window.helpdeskSettings || {};
  var storeKey = "helpdesk:" + base;

  var STRINGS = {
    en: {
      title: "Customer service", open: "Chat with us", close: "Close chat", placeholder: "Type your message…",
      send: "Send", stop: "Stop", human: "Talk to a human", offline: "Connection lost — reconnecting…",
      greeting: "Hi! Ask us anything about your order, shipping or returns.",
      waiting_human: "A colleague will join shortly.", human_joined: "You are chatting with a colleague.",
      resolved: "This conversation is resolved. Write again any time.", bot: "",
      failed: "Not delivered — will retry", tooLong: "Message too long", refused: "This site may not open the chat.",
      refusedIdentity: "We could not confirm who you are. Please sign in again.",
      you: "You", assistant: "Assistant", agent: "Agent", system: "Notice", typing: "typing…", sources: "Sources",
      helpful: "Helpful", notHelpful: "Not helpful", rate: "How did we do?", star: "{n} of 5",
      comment: "Anything to add? (optional)", sendRating: "Send rating", thanks: "Thank you for your rating!",
      emailPrompt: "Leave your email and we will write back:", emailSend: "Send", badEmail: "Please check the address."
    },
    "zh-hans": {
      title: "在线客服", open: "联系客服", close: "关闭对话", placeholder: "请输入您的问题…",
      send: "发送", stop: "停止", human: "转人工", offline: "连接已断开，正在重连…",
      greeting: "您好！关于订单、配送或退换货，都可以问我。",
      waiting_human: "客服同事马上就来。", human_joined: "您正在与人工客服对话。",
      resolved: "本次对话已解决，随时可以再次留言。", bot: "",
      failed: "未送达，稍后重试", tooLong: "消息过长", refused: "此网站无权打开客服对话。",
      refusedIdentity: "无法确认您的身份，请重新登录。",
      you: "我", assistant: "智能助手", agent: "客服", system: "提示", typing: "正在输入…", sources: "参考资料",
      helpful: "有帮助", notHelpful: "没帮助", rate: "请为本次服务评分", star: "{n} 星（满分 5）",
      comment: "还有什么想说的？（选填）", sendRating: "提交评分", thanks: "感谢您的评分！",
      emailPrompt: "留下邮箱，我们会回信给您：", emailSend: "提交", badEmail: "请检查邮箱地址。"
    }
  };
  var lang = (settings.locale || navigator.language || "en").toLowerCase().indexOf("zh") === 0 ? "zh-hans" : "en";
  var t = STRINGS[lang];

  var state = {
    token: null, ws: null, retry: 0, open: false, maxChars: 4000, connected: false,
    messages: {},          // id -> {el, body, text, seq, status}
    outbox: loadOutbox(),  // [{client_id, text}] not yet confirmed by the server
    streaming: {}          // message ids being generated
  };

  function load(key) { try { return localStorage.getItem(storeKey + ":" + key); } catch (e) { return null; } }
  function save(key, value) { try { value === null ? localStorage.removeItem(storeKey + ":" + key) : localStorage.setItem(storeKey + ":" + key, value); } catch (e) { /* private mode */ } }
  function loadOutbox() { try { return JSON.parse(load("outbox") || "[]"); } catch (e) { return []; } }
  function saveOutbox() { save("outbox", JSON.stringify(state.outbox)); }
  function newClientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "c" + Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
  }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }

  function chatIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "20");
    svg.setAttribute("height", "20");
    svg.setAttribute("aria-hidden", "true");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z");
    svg.appendChild(path);
    return svg;
  }

  // --- DOM, inside a shadow root -------------------------------------------------
  // A tag of its own (rules for div, section… never reach it) with inline !important styles, which beat any
  // stylesheet of the host page: its CSS can neither hide the widget nor become the containing block.
  var host = el("helpdesk-widget");
  host.id = "helpdesk-widget-root";
  [["display", "block"], ["visibility", "visible"], ["opacity", "1"], ["transform", "none"], ["filter", "none"],
   ["contain", "none"], ["position", "static"], ["width", "0"], ["height", "0"]].forEach(function (rule) {
    host.style.setProperty(rule[0], rule[1], "important");
  });
  // The host site's brand colour, inherited into the shadow root (only a value the browser reads as a colour).
  if (typeof settings.primaryColor === "string" && window.CSS && CSS.supports("color", settings.primaryColor)) {
    host.style.setProperty("--hd-primary", settings.primaryColor);
  }
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var css = el("link");
  css.rel = "stylesheet";
  css.href = base + "/static/widget.css";
  root.appendChild(css);

  var launcher = el("button", "hd-launcher");
  launcher.type = "button";
  launcher.setAttribute("aria-label", t.open);
  launcher.setAttribute("aria-expanded", "false");
  launcher.appendChild(chatIcon());
  launcher.appendChild(el("span", "hd-launcher-label", t.open));

  var panel = el("section", "hd-panel");
  if (settings.position === "left") { launcher.classList.add("hd-left"); panel.classList.add("hd-left"); }
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", settings.title || t.title);
  panel.hidden = true;
  var header = el("header", "hd-header");
  header.appendChild(el("h2", "hd-title", settings.title || t.title));
  var humanBtn = el("button", "hd-human", t.human);
  humanBtn.type = "button";
  var closeBtn = el("button", "hd-close", "×");
  closeBtn.type = "button";
  closeBtn.setAttribute("aria-label", t.close);
  header.appendChild(humanBtn);
  header.appendChild(closeBtn);
  var banner = el("div", "hd-banner");
  banner.setAttribute("role", "status");
  banner.hidden = true;
  var list = el("ol", "hd-messages");
  list.setAttribute("aria-live", "polite");
  list.setAttribute("aria-relevant", "additions text");
  var typing = el("div", "hd-typing", t.typing);
  typing.hidden = true;
  var form = el("form", "hd-form");
  var input = el("textarea", "hd-input");
  input.rows = 1;
  input.placeholder = t.placeholder;
  input.setAttribute("aria-label", t.placeholder);
  var counter = el("span", "hd-counter");
  var stopBtn = el("button", "hd-stop", t.stop);
  stopBtn.type = "button";
  stopBtn.hidden = true;
  var sendBtn = el("button", "hd-send", t.send);
  sendBtn.type = "submit";
  form.appendChild(input);
  form.appendChild(counter);
  form.appendChild(stopBtn);
  form.appendChild(sendBtn);
  panel.appendChild(header);
  panel.appendChild(banner);
  panel.appendChild(list);
  panel.appendChild(typing);
  panel.appendChild(form);
  root.appendChild(launcher);
  root.appendChild(panel);

  function showBanner(text) { banner.textContent = text || ""; banner.hidden = !text; }
  function scrollDown() { list.scrollTop = list.scrollHeight; }
  function roleLabel(role) { return { customer: t.you, bot: t.assistant, agent: t.agent, system: t.system }[role] || role; }

  function bubble(key, role) {
    var item = el("li", "hd-msg hd-" + role);
    item.appendChild(el("span", "hd-visually-hidden", roleLabel(role) + ": "));
    var body = el("div", "hd-body");
    item.appendChild(body);
    list.appendChild(item);
    var entry = { el: item, body: body, text: "", seq: -1, status: "complete", role: role };
    state.messages[key] = entry;
    return entry;
  }
  function setText(entry, text) {
    entry.text = text;
    if (entry.role === "bot" || entry.role === "agent") renderMarkdown(entry.body, text);
    else entry.body.textContent = text;
  }

  // A small, safe Markdown: paragraphs, lists, **bold**, *italic*, `code`, ``` blocks and [links](https://…).
  // Every piece of text goes in through textContent; raw HTML in a reply stays visible text.
  function renderMarkdown(target, text) {
    target.textContent = "";
    var blocks = String(text).replace(/\r\n?/g, "\n").split(/\n{2,}|(?=^```)/m), fence = null;
    blocks.forEach(function (block) {
      if (fence) { fence.textContent += "\n\n" + block; if (/```\s*$/.test(block)) { fence.textContent = fence.textContent.replace(/```\s*$/, ""); fence = null; } return; }
      var m = /^```[^\n]*\n?([\s\S]*?)(```\s*)?$/.exec(block);
      if (m) { var pre = el("pre", "hd-code"); pre.textContent = m[1]; target.appendChild(pre); if (!m[2]) fence = pre; return; }
      var lines = block.split("\n"), listTag = null, list = null;
      lines.forEach(function (line) {
        var item = /^\s*(?:([-*•])|(\d+)[.)])\s+(.*)$/.exec(line);
        if (item) {
          var tag = item[1] ? "ul" : "ol";
          if (!list || listTag !== tag) { list = el(tag); listTag = tag; target.appendChild(list); }
          var li = el("li"); inline(li, item[3]); list.appendChild(li);
        } else if (line.trim()) {
          list = null;
          var last = target.lastChild;
          if (last && last.tagName === "P" && last.getAttribute("data-open")) { last.appendChild(el("br")); inline(last, line); }
          else { var p = el("p"); p.setAttribute("data-open", "1"); inline(p, line); target.appendChild(p); }
        }
      });
      if (target.lastChild && target.lastChild.removeAttribute) target.lastChild.removeAttribute("data-open");
    });
  }
  function inline(parent, text) {
    var pattern = /(`[^`]+`)|(\*\*[^*]+\*\*)|(\*[^*\s][^*]*\*)|(\[[^\]]+\]\((https?:\/\/[^\s)]+)\))/g, at = 0, m;
    while ((m = pattern.exec(text))) {
      if (m.index > at) parent.appendChild(document.createTextNode(text.slice(at, m.index)));
      if (m[1]) parent.appendChild(el("code", null, m[1].slice(1, -1)));
      else if (m[2]) parent.appendChild(el("strong", null, m[2].slice(2, -2)));
      else if (m[3]) parent.appendChild(el("em", null, m[3].slice(1, -1)));
      else { var a = el("a", null, /^\[([^\]]+)\]/.exec(m[4])[1]); a.href = m[5]; a.target = "_blank"; a.rel = "noopener noreferrer"; parent.appendChild(a); }
      at = pattern.lastIndex;
    }
    if (at < text.length) parent.appendChild(document.createTextNode(text.slice(at)));
  }

  // Where an answer came from: titles as text, links only to http(s) addresses.
  function setCitations(entry, citations) {
    if (entry.sources) { entry.sources.remove(); entry.sources = null; }
    if (!citations || !citations.length) return;
    var box = el("div", "hd-sources");
    box.appendChild(el("span", "hd-sources-label", t.sources + ": "));
    citations.forEach(function (c, i) {
      var safe = typeof c.url === "string" && /^https?:\/\//i.test(c.url);
      var item = el(safe ? "a" : "span", "hd-source", String(c.title || ""));
      if (safe) { item.href = c.url; item.target = "_blank"; item.rel = "noopener noreferrer"; }
      if (i) box.appendChild(document.createTextNode(" · "));
      box.appendChild(item);
    });
    entry.el.appendChild(box);
    entry.sources = box;
  }

  function upsert(message) {
    var entry = state.messages[message.id];
    if (!entry && message.client_id && state.messages["local:" + message.client_id]) {
      entry = state.messages["local:" + message.client_id];
      delete state.messages["local:" + message.client_id];
      state.messages[message.id] = entry;
    }
    if (!entry) entry = bubble(message.id, message.role);
    setText(entry, message.content);
    setCitations(entry, message.citations);
    if (message.agent && message.agent.name && !entry.author) {
      entry.author = el("div", "hd-author", message.agent.name);
      entry.el.insertBefore(entry.author, entry.body);
    }
    if (message.role === "bot" && message.status === "complete" && typeof message.id === "number") addThumbs(entry, message.id);
    entry.status = message.status;
    entry.el.classList.remove("hd-pending", "hd-failed-send");
    entry.el.setAttribute("data-status", message.status);
    entry.el.setAttribute("data-id", String(message.id));
    if (message.status === "streaming") { state.streaming[message.id] = true; entry.el.classList.add("hd-streaming"); }
    else { delete state.streaming[message.id]; entry.el.classList.remove("hd-streaming"); }
    if (message.client_id) confirmSent(message.client_id);
    refreshStop();
    scrollDown();
    emit("message", message);
    return entry;
  }

  function confirmSent(clientId) {
    var before = state.outbox.length;
    state.outbox = state.outbox.filter(function (m) { return m.client_id !== clientId; });
    if (state.outbox.length !== before) saveOutbox();
  }

  function onDelta(frame) {
    var entry = state.messages[frame.message_id] || bubble(frame.message_id, "bot");
    entry.el.classList.add("hd-streaming");
    state.streaming[frame.message_id] = true;
    if (frame.seq === 0) setText(entry, "");
    if (frame.seq === entry.seq + 1) {
      setText(entry, entry.text + frame.text);
      entry.seq = frame.seq;
    } else if (frame.seq > entry.seq + 1) {
      entry.gap = true; // missed pieces: "done" brings the full text
    }
    typing.hidden = true;
    refreshStop();
    scrollDown();
  }

  // Thumbs on a finished bot reply: two thumbs-down in a row bring a colleague.
  function addThumbs(entry, id) {
    if (entry.thumbs) return;
    var box = el("div", "hd-thumbs");
    // Plain glyphs with words beside them: no emoji font needed, clear to screen readers.
    [[1, "✓ " + t.helpful], [-1, "✗ " + t.notHelpful]].forEach(function (spec) {
      var b = el("button", "hd-thumb", spec[1]);
      b.type = "button"; b.setAttribute("aria-pressed", "false");
      b.setAttribute("data-rating", String(spec[0]));
      b.addEventListener("click", function () { sendFrame({ type: "feedback", message_id: id, rating: spec[0] }); });
      box.appendChild(b);
    });
    entry.el.appendChild(box);
    entry.thumbs = box;
  }
  function onFeedback(frame) {
    var entry = state.messages[frame.message_id];
    if (!entry || !entry.thumbs) return;
    entry.thumbs.querySelectorAll("button").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-rating") === String(frame.rating)));
    });
  }

  // After a colleague resolves the conversation: a 1-5 rating with an optional comment.
  function showRating() {
    if (state.rating) return;
    var box = el("li", "hd-card");
    box.appendChild(el("div", "hd-card-title", t.rate));
    var stars = el("div", "hd-stars"), chosen = 0;
    for (var n = 1; n <= 5; n++) {
      (function (n) {
        var b = el("button", "hd-star", "★");
        b.type = "button"; b.setAttribute("aria-label", t.star.replace("{n}", n)); b.setAttribute("aria-pressed", "false");
        b.addEventListener("click", function () {
          chosen = n;
          stars.querySelectorAll("button").forEach(function (s, i) { s.setAttribute("aria-pressed", String(i < n)); });
        });
        stars.appendChild(b);
      })(n);
    }
    var comment = el("input", "hd-card-input"); comment.placeholder = t.comment; comment.maxLength = 2000;
    var send = el("button", "hd-send", t.sendRating); send.type = "button";
    send.addEventListener("click", function () {
      if (chosen) sendFrame({ type: "csat", score: chosen, comment: comment.value.trim() });
    });
    box.appendChild(stars); box.appendChild(comment); box.appendChild(send);
    list.appendChild(box);
    state.rating = box;
    scrollDown();
  }
  // Outside working hours: an address for a colleague to write back to.
  function showEmailForm() {
    if (state.emailForm) return;
    var box = el("li", "hd-card"), form = el("form", "hd-card-form");
    box.appendChild(el("div", "hd-card-title", t.emailPrompt));
    var input = el("input", "hd-card-input"); input.type = "email"; input.required = true; input.autocomplete = "email";
    input.setAttribute("aria-label", t.emailPrompt);
    var send = el("button", "hd-send", t.emailSend); send.type = "submit";
    form.appendChild(input); form.appendChild(send);
    form.addEventListener("submit", function (e) { e.preventDefault(); sendFrame({ type: "contact", email: input.value.trim() }); });
    box.appendChild(form);
    list.appendChild(box);
    state.emailForm = box;
    scrollDown();
  }

  function refreshStop() { stopBtn.hidden = Object.keys(state.streaming).length === 0; }

  function onStatus(status, frame) {
    var text = { waiting_human: t.waiting_human, human: t.human_joined, resolved: t.resolved }[status] || "";
    panel.setAttribute("data-status", status);
    humanBtn.hidden = status !== "bot";
    if (text) showBanner(text); else if (state.connected) showBanner("");
    if (status === "resolved" && frame) showRating();
    if (status !== "resolved" && state.rating) { state.rating.remove(); state.rating = null; }
    if (frame && frame.offline) showEmailForm();
  }

  function handle(frame) {
    switch (frame.type) {
      case "history":
        list.textContent = "";
        state.rating = state.emailForm = null;
        state.messages = {};
        state.streaming = {};
        if (frame.limits && frame.limits.message_max_chars) state.maxChars = frame.limits.message_max_chars;
        if (!frame.messages.length) bubble("greeting", "system").body.textContent = settings.greeting || t.greeting;
        frame.messages.forEach(upsert);
        state.outbox.forEach(function (m) { if (!state.messages["local:" + m.client_id]) localBubble(m); });
        onStatus(frame.conversation.status);
        flushOutbox();
        break;
      case "message": upsert(frame.message); break;
      case "delta": onDelta(frame); break;
      case "done": upsert(frame.message); break;
      case "status": onStatus(frame.status, frame); break;
      case "feedback": onFeedback(frame); break;
      case "csat":
        if (state.rating) { state.rating.textContent = ""; state.rating.appendChild(el("div", "hd-card-title", t.thanks)); }
        break;
      case "typing": typing.hidden = !frame.active || Object.keys(state.streaming).some(function (id) { return state.messages[id] && state.messages[id].text; }); scrollDown(); break;
      case "error":
        if (frame.client_id) {
          var entry = state.messages["local:" + frame.client_id];
          if (entry) { entry.el.classList.add("hd-failed-send"); entry.el.title = frame.detail; }
          confirmSent(frame.client_id);
        }
        if (frame.code === "invalid_email" && state.emailForm) state.emailForm.querySelector("input").setCustomValidity(t.badEmail);
        if (window.console) console.warn("helpdesk:", frame.code, frame.detail);
        break;
    }
  }

  // --- connection ------------------------------------------------------------------
  function wsUrl() { return base.replace(/^http/, "ws") + "/ws/chat/" + state.token + "/"; }

  // A signed-in user of the host site gets their own conversation on every device: the token is kept per user.
  function tokenKey() { return settings.user && settings.user.id != null ? "token:u:" + settings.user.id : "token"; }
  function createConversation() {
    var options = { method: "POST", headers: { "Accept": "application/json" } };
    if (settings.user) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify({ user: settings.user });
    }
    return fetch(base + "/api/v1/conversations", options)
      .then(function (r) {
        if (r.status === 403) {
          return r.json().then(function (e) {
            state.refused = true;
            showBanner(t.refusedIdentity);
            if (window.console) console.error("helpdesk: " + e.error + ": " + e.detail);
            throw new Error(e.error);
          });
        }
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (data) { state.token = data.token; save(tokenKey(), data.token); });
  }

  function connect() {
    if (state.ws && state.ws.readyState <= 1) return;
    var ready = state.token ? Promise.resolve() : createConversation();
    ready.then(function () {
      var ws = new WebSocket(wsUrl());
      state.ws = ws;
      ws.onopen = function () { state.connected = true; state.retry = 0; showBanner(""); };
      ws.onmessage = function (ev) { try { handle(JSON.parse(ev.data)); } catch (e) { if (window.console) console.error("helpdesk:", e); } };
      ws.onclose = function (ev) {
        state.connected = false;
        if (ev.code === 4404) { state.token = null; save(tokenKey(), null); reconnect(0); return; }
        if (ev.code === 4403) { showBanner(t.refused); if (window.console) console.error("helpdesk: this origin is not allowed to embed the chat (WIDGET_ALLOWED_ORIGINS)"); return; }
        showBanner(t.offline);
        reconnect();
      };
    }).catch(function () { if (state.refused) return; showBanner(t.offline); reconnect(); });
  }

  function reconnect(delay) {
    var wait = delay != null ? delay : Math.min(30000, 500 * Math.pow(2, state.retry++)) * (0.75 + Math.random() / 2);
    setTimeout(connect, wait);
  }
  window.addEventListener("online", function () { if (!state.connected) { state.retry = 0; connect(); } });

  function flushOutbox() {
    if (!state.ws || state.ws.readyState !== 1) return;
    state.outbox.forEach(function (m) { state.ws.send(JSON.stringify({ type: "message", text: m.text, client_id: m.client_id })); });
  }

  function localBubble(m) {
    var entry = bubble("local:" + m.client_id, "customer");
    setText(entry, m.text);
    entry.el.classList.add("hd-pending");
    scrollDown();
  }

  function send(text) {
    text = text.trim();
    if (!text) return;
    if (text.length > state.maxChars) { counter.textContent = t.tooLong; return; }
    var m = { client_id: newClientId(), text: text };
    state.outbox.push(m);
    saveOutbox();
    localBubble(m);
    if (state.ws && state.ws.readyState === 1) state.ws.send(JSON.stringify({ type: "message", text: m.text, client_id: m.client_id }));
    else connect();
  }

  function sendFrame(frame) { if (state.ws && state.ws.readyState === 1) state.ws.send(JSON.stringify(frame)); }

  // --- UI events -------------------------------------------------------------------
  function setOpen(open) {
    state.open = open;
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    host.classList.toggle("hd-is-open", open);
    if (open) { connect(); input.focus(); scrollDown(); } else { launcher.focus(); }
    save("open", open ? "1" : null);
  }
  launcher.addEventListener("click", function () { setOpen(!state.open); });
  closeBtn.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (ev) { if (ev.key === "Escape") setOpen(false); });
  humanBtn.addEventListener("click", function () { sendFrame({ type: "request_human" }); });
  stopBtn.addEventListener("click", function () { sendFrame({ type: "stop" }); });
  form.addEventListener("submit", function (ev) { ev.preventDefault(); send(input.value); input.value = ""; updateCounter(); });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit")); }
  });
  function updateCounter() {
    var n = input.value.length;
    counter.textContent = n > state.maxChars * 0.8 ? n + " / " + state.maxChars : "";
    counter.classList.toggle("hd-over", n > state.maxChars);
    sendBtn.disabled = n > state.maxChars;
  }
  input.addEventListener("input", updateCounter);

  // --- public API --------------------------------------------------------------------
  var listeners = {};
  function emit(name, payload) { (listeners[name] || []).forEach(function (fn) { try { fn(payload); } catch (e) { /* host's bug */ } }); }
  window.Helpdesk = {
    _loaded: true,
    open: function () { setOpen(true); },
    close: function () { setOpen(false); },
    toggle: function () { setOpen(!state.open); },
    on: function (name, fn) { (listeners[name] = listeners[name] || []).push(fn); },
    // The host site's user signed in or out: continue that user's conversation (or a new anonymous one).
    setUser: function (user) {
      settings.user = user || null;
      state.refused = false;
      state.token = load(tokenKey());
      if (state.ws) { state.ws.onclose = null; state.ws.close(); state.ws = null; }
      state.connected = false;
      if (state.open) connect();
    }
  };

  function mount() {
    document.body.appendChild(host);
    state.token = load(tokenKey());
    if (load("open") === "1" || state.outbox.length) setOpen(true);
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
