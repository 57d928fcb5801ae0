"""Whether a customer's message asks for a person, by the shape of the request rather than a phrase list.

A customer who wants a person says so in endless ways ("could someone from your team call me", "put me
through to a real person", "我不想跟机器人聊", "麻烦帮我接一下人工"), so a list of phrases (the operator's
HANDOFF_PHRASES, still honoured) misses most of them. The rule here is grammatical, over a person noun (a human,
a member of staff, whoever is in charge, one of your people, 人工, 真人, 活人, 同事, 负责人…):

- a verb of reaching aimed at it: talk/speak/chat with, put me through/in touch with, pass this on to,
  escalate to, sort this out with, an answer from; 转/接/找/换/叫/让/联系…, 跟/和…聊/说/沟通;
- the person as the subject of a contact back: "could a member of staff get in touch with me", "请你们同事跟我说";
- a want, need or preference for it: "I need a human", "I'd rather deal with somebody on your team";
- asking whether one is there: "is there a real person I can talk to?", "有没有活人在线";
- the noun alone, said once or over again: "agent!", "人工！人工！";
- or a refusal of the bot: "not a bot", "rather … than an automated assistant", "别让机器人回答".

What it must not take for a request: a question about the bot itself ("are you a real person?", "你是真人吗":
no request), a negated request ("no need for an agent", "不用转人工"), the same nouns in other senses ("human
consumption", "人工种植", "my agent ordered it", "the manager said I could return it", "经理说可以退"), and
questions that only mention support ("客服电话是多少", "what are your customer service hours?": the knowledge
base may answer them; "找不到客服" is a search, not a request).

Plain functions of text, deterministic and fast (a few regular expressions), so they run before anything else
on every message.
"""

from __future__ import annotations

import re

# --- English ---------------------------------------------------------------------------------------------

_EN_DET = (
    r"(?:(?:a|an|the|some|any|your|one\s+of\s+your|real|actual|live|human|proper|competent|qualified"
    # "a living, breathing person", "a flesh-and-blood human"
    r"|living,?|breathing|flesh[-\s]and[-\s]blood)\s+)*"
)
_EN_NOUN = (
    r"(?:humans?(?:\s+beings?)?|persons?|people|agents?|reps?|representatives?|operators?|someone|somebody|anyone"
    r"|anybody|staff(?:\s+members?)?|team\s+members?|employees?"
    # "a member of your customer service staff", "members of the support team"
    r"|members?\s+of\s+(?:staff|(?:your|the)\s+(?:(?:customer\s+)?(?:service|support|care|sales|after-?sales)\s+)?"
    r"(?:team|staff|department))"
    r"|colleagues?|managers?|management|supervisors?|boss|owner|someone\s+(?:senior|in\s+charge)"
    r"|whoever(?:\s+is|'s|’s)?\s+(?:in\s+charge|responsible|works\s+there|on\s+duty|working(?:\s+today|\s+now)?)"
    # the one whose job the matter is: "whoever handles complaints", "the person who deals with refunds"
    # (contracted too: "the one who's in charge of refunds")
    r"|(?:whoever|(?:someone|somebody|the\s+(?:person|people|one|guy|team))\s+(?:who|that))(?:['’]s)?\s+(?:handles?"
    r"|deals?\s+with|looks?\s+after|takes?\s+care\s+of|manages?|(?:(?:is|are)\s+)?(?:responsible\s+for"
    r"|in\s+charge\s+of)|does"
    # one of the shop's own: "somebody who actually works there", "a person that works for you"
    r"|(?:actually\s+|really\s+)?works?\s+(?:there|here|for\s+(?:you|the\s+shop)|at\s+(?:the|your)\s+(?:shop|store|studio"
    r"|company))"
    # one who may decide: "someone who can actually make a decision on my case"
    r"|(?:can|could)\s+(?:actually\s+|really\s+)?(?:make\s+(?:a|the)\s+(?:decision|call)|decide|approve|authori[sz]e"
    r"|sign\s+(?:it\s+)?off)(?:\s+(?:on|about)\s+(?:this|it|my\s+\w+))?)"
    r"|(?:the\s+)?person\s+in\s+charge|customer\s+(?:service|support|care)(?:\s+(?:team|reps?|representatives?"
    r"|agents?|person|people|staff|department))?|support\s+(?:team|agents?|person|people|staff|department)"
    r"|your\s+team|the\s+team|(?:your|the)\s+people|one\s+of\s+(?:your|the)\s+(?:team|people|crew)"
    # the Chinese words for one, typed among English ("can I talk to 客服", "transfer me to 人工 please")
    r"|人工(?:客服|服务)?|真人(?:客服)?|客服(?:人员)?|工作人员|售后(?:客服)?"
    r"|ren\s?gong(?:\s?ke\s?fu)?|ke\s?fu)"  # and in pinyin ("can i get rengong")
)
# "somebody on your team", "a colleague of yours": the qualifier keeps it a person of the shop.
_EN_ONE_PERSON = (
    rf"{_EN_DET}{_EN_NOUN}"
    r"(?:\s+(?:on|from|at|in)\s+(?:your|the)\s+(?:\w+\s+)?(?:team|staff|shop|store|end|side|company)|\s+of\s+yours"
    # "somebody from support", "someone in customer service"
    r"|\s+(?:from|in|at)\s+(?:your\s+|the\s+)?(?:customer\s+)?(?:support|service|care|sales|after-?sales)"
    r"(?:\s+(?:team|desk|department))?)?"
)
# Two of them offered as alternatives: "put your manager or somebody who works there on this".
_EN_PERSON = rf"{_EN_ONE_PERSON}(?:,?\s+(?:or|or\s+else|and/or)\s+{_EN_ONE_PERSON})?"
_EN_WITH = r"(?:to|with|w/?)"
_EN_REACH = (
    # as the verb is, or as what doing it would be like: "I'd feel better going through this with one of your staff"
    rf"(?:talk(?:ing)?|speak(?:ing)?|chat(?:ting)?|writ(?:e|ing)|deal(?:ing)?|discuss(?:ing)?\s+(?:this|it)"
    r"|sort(?:ing)?\s+(?:this|it|things)\s+out|work(?:ing)?\s+(?:this|it)\s+out"
    r"|talk(?:ing)?\s+(?:this|it|things)\s+(?:through|over)"
    rf"|(?:go(?:ing)?\s+(?:over|through)|run(?:ning)?\s+through|rais(?:e|ing)|settl(?:e|ing)|handl(?:e|ing))"
    rf"\s+(?:this|it|that|things|my\s+\w+))\s+{_EN_WITH}"
    rf"|take\s+(?:this|it|that|things|my\s+\w+)\s+up\s+{_EN_WITH}|run\s+(?:this|it|that)\s+(?:by|past)"
    # telling the matter to someone: "I'd rather explain the whole thing to somebody on your team"
    r"|explain\s+(?:(?:this|it|that|everything|things|my\s+\w+|the\s+(?:whole\s+)?(?:thing|situation|story|problem"
    r"|issue|matter))\s+)?to"
    rf"|(?:connect(?:ed)?|hook)\s+(?:me\s+)?(?:up\s+)?{_EN_WITH}|transfer(?:red)?\s+(?:me\s+|this\s+)?to"
    rf"|put\s+me\s+(?:through\s+)?{_EN_WITH}"
    rf"|put\s+me\s+in\s+(?:touch|contact)\s+{_EN_WITH}|(?:get|give|find)\s+me|let\s+me\s+(?:talk|speak|chat)\s+{_EN_WITH}"
    r"|(?:pass|send|forward|hand|escalate|refer|route)\s+(?:(?:me|this|it|my\s+\w+)\s+)?(?:over\s+|on\s+|up\s+)?to"
    r"|(?:answer|reply|response|help|call)\s+from"
)
_EN_CONTACT_ME = (
    r"(?:(?:call|contact|phone|ring|reach|email|e-mail|text|message|get\s+back\s+to|get\s+in\s+(?:touch|contact)\s+with"
    r"|talk\s+to|speak\s+(?:to|with)|chat\s+with)\s+(?:me|us|this|it|my)\b"
    r"|look\s+(?:at|into)\s+(?:this|it|my)\b"  # "could someone look at this"
    # the matter taken on: "please let somebody from your team deal with it"
    r"|(?:deal\s+with|handle|sort\s+out|take\s+care\s+of|take\s+over)\s+(?:this|it|my)\b"
    r"|(?:pick|take)\s+(?:this|it|my\s+\w+)\s+(?:up|on)\b(?!\s+(?:from|at|to))"  # "could someone pick this up"
    r"|give\s+(?:me|us)\s+a\s+(?:call|ring|buzz|bell|shout)\b"  # the idioms of calling someone
    # the conversation itself taken on, said without an object: "can someone from your team take over?", "could a
    # person step in here" (not "take over the subscription", a thing)
    r"|(?:take\s+over|step\s+in|jump\s+in|come\s+in\s+on\s+this)(?:\s+(?:here|now|please|from\s+here))?"
    r"(?=\s*(?:[.!?,;]|$)))"
)
_EN_WANT = (
    # with a word of weight between: "I'd just like…", "I would really rather…"
    r"want|wanna|need|(?:would|'d)\s+(?:(?:just|really|much|simply|honestly|very\s+much)\s+)?(?:like|rather|prefer)"
    r"|prefer|rather|request|demand|ask\s+for"
    r"|insist\s+on|looking\s+for|waiting\s+for"
)
_EN_REQUEST = re.compile(
    rf"\b(?:{_EN_REACH})\s+{_EN_PERSON}\b"
    # (the person said again as what they are: "can someone from your team, an actual person, pick this up?")
    rf"|\b(?:can|could|may|would|will|please|pls|plz|have|let)\s+{_EN_PERSON}"
    r"(?:,\s+(?:an?\s+)?(?:actual|real|live|proper)\s+(?:person|human|one),?)?,?\s+(?:(?:please|just|quickly|directly)\s+)?"
    rf"{_EN_CONTACT_ME}"
    rf"|\b(?:{_EN_WANT})\s+(?:to\s+)?(?:(?:{_EN_REACH})\s+)?{_EN_PERSON}\b"
    rf"|\b(?:can|could|may)\s+(?:i|we)\s+(?:please\s+)?(?:have|get)\s+{_EN_PERSON}\b"  # "can I have a real person"
    rf"|\bget\s+{_EN_PERSON}\s+(?:on\s+the\s+(?:line|phone|chat)|to\s+help\s+(?:me|us))"
    # "put a person on this", "get your boss on this"
    rf"|\b(?:put|get)\s+{_EN_PERSON}\s+on\s+(?:this|it|my\s+\w+|the\s+(?:line|phone|chat|case))\b"
    # a person got to contact the customer: "get someone to call me", "for one of your staff to give me a ring?"
    rf"|\b(?:for|have|get|ask)\s+{_EN_PERSON}\s+to\s+(?:please\s+)?{_EN_CONTACT_ME}"
    r"|\bescalate\s+(?:this|it|my\s+\w+)\b(?!\s+(?:by|through|via))"  # escalating is asking for someone above
    rf"|\b(?:is|are)\s+there\s+{_EN_DET}(?:humans?|persons?|people|agents?|staff|reps?|representatives?|employees?)\b"
    # "is there someone at your shop I can actually ring up and speak to?"
    # "is there anyone actually working there I can chat with?": who is there, at work, then what to do with them
    rf"|\bis\s+there\s+(?:someone|somebody|anyone|anybody|{_EN_DET}{_EN_NOUN})(?:\s+(?:actually|really|still|even))?"
    r"(?:\s+(?:working|on\s+duty|online|available|around|awake)(?:\s+(?:there|here|today|now|right\s+now))?)?"
    r"(?:\s+(?:on|from|at|in)\s+(?:your\s+\w+|the\s+(?:shop|store|studio|company|team)))?\s+(?:that\s+|who\s+)?(?:i|we)\s+"
    r"(?:can|could)\s+(?:actually\s+|just\s+|really\s+)?(?:talk|speak|chat|call|write|ring|phone|explain|describe)"
    # "is there someone on your team who can actually look at my order?": a person to do what the bot did not
    rf"|\bis\s+there\s+(?:someone|somebody|anyone|anybody|{_EN_NOUN})(?:\s+(?:on|from|at|in)\s+(?:your|the)\s+\w+)?"
    r"(?:\s+(?:there|here|around|available))?\s+(?:who|that)\s+(?:can|could|will|would)\s+(?:actually\s+|really\s+|please\s+)?"
    r"(?:look\s+(?:at|into)|check|help|sort|deal\s+with|handle|fix|read"
    # taking the matter on: "is there someone who can pick this up?", "…who could take this over"
    r"|(?:pick|take)\s+(?:this|it|that|my\s+\w+)\s+(?:up|over|on)\b(?!\s+(?:from|at|to))|follow\s+up\s+on)\b"
    rf"|\bany\s+(?:real\s+|live\s+|actual\s+)?(?:humans?|people|agents?|staff)\s+(?:around|here|there|online|available)"
    r"|\b(?:is|are)\s+there\s+(?:someone|somebody|anyone|anybody)\s+(?:real|human|alive|actually\s+there)\b"
    # doubting anyone is there at all: "is anyone actually reading this?", "is somebody even there"
    r"|\bis\s+(?:someone|somebody|anyone|anybody)\s+(?:(?:actually|really|even|at\s+all)\s+)?"
    r"(?:reading\s+(?:this|these|my)|there\b|listening\b|on\s+the\s+other\s+end\b|human\b|real\b|alive\b)"
    # wanting to ring the shop rather than write: "what's your number? I'd rather just call", "I want to phone you
    # and explain" (not a call to someone else: "I need to call the courier")
    rf"|\b(?:{_EN_WANT})\s+(?:to\s+)?(?:just\s+)?(?:call|phone|ring)(?:\s+(?:you(?:\s+guys)?|your\s+(?:shop|store|team"
    r"|office)))?(?:\s+(?:up|directly|instead))?(?:\s+and\s+(?:talk|speak|explain)\b|\s*(?:[.!?,]|$))"
    # the shop asked to ring the customer: "could you guys just phone me?" (not a call on arrival, "can you call me
    # when it ships", nor something rung through, "phone me the tracking number", "call me a taxi")
    r"|\b(?:can|could|would)\s+(?:you|you\s+guys|y'?all)\s+(?:please\s+)?(?:just\s+)?(?:call|phone|ring)\s+me\b"
    r"(?!\s+(?:a|an|the|my|your|when|if|once|before|after|as\s+soon)\b)"
    rf"|^\s*(?:(?:{_EN_PERSON})\s*[,!.?]*\s*(?:please|pls|plz|now|asap)?\s*[,!.?]*\s*){{1,4}}$",
    re.IGNORECASE,
)
_EN_BOT = (
    r"(?:chat\s*bot|bot|robot|machine|ai|computer|automated\s+\w+|auto(?:matic)?[-\s]?(?:reply|replies|responses?)"
    r"|virtual\s+assistant|script)"
)
_EN_REFUSES_BOT = re.compile(
    rf"\b(?:(?:don'?t|do\s+not|won'?t|will\s+not|no\s+more|stop|done|tired\s+of|sick\s+of|fed\s+up\s+with|hate)"
    rf"\s+(?:want\s+to\s+)?(?:talk(?:ing)?|speak(?:ing)?|chat(?:ting)?)\s+(?:to|with)\s+(?:a|an|the|this|your)?\s*{_EN_BOT}"
    rf"|not\s+(?:a|an|the|this|your)\s+{_EN_BOT}\b"
    rf"|(?:rather|prefer)\b[^.!?]{{0,80}}\b(?:than|instead\s+of|over)\s+(?:[\w']+\s+){{0,4}}?(?:a|an|the|this|your)?\s*{_EN_BOT}"
    rf"|instead\s+of\s+(?:a|an|the|this|your)?\s*{_EN_BOT})",
    re.IGNORECASE,
)
# "r u a bot? i want a real one": a real one, in a message that names the bot, is a real person (not "is this tin
# fake? I want a real one", a thing).
# (the bot's own names, not a machine or a computer, which the shop may sell)
_EN_BOT_NAMED = re.compile(
    r"\b(?:chat\s*bot|bot|robot|ai|automated\s+\w+|auto(?:matic)?[-\s]?(?:reply|replies|responses?)"
    r"|virtual\s+assistant)s?\b",
    re.IGNORECASE,
)
_EN_REAL_ONE = re.compile(
    rf"\b(?:{_EN_WANT}|give\s+me|get\s+me|let\s+me\s+(?:talk|speak|chat)\s+(?:to|with))\s+"
    r"(?:to\s+(?:talk|speak|chat)\s+(?:to|with)\s+)?(?:a|an)\s+(?:real|actual|live|human|proper)\s+one\b",
    re.IGNORECASE,
)
# A negation governs the request only when the words between are plain words (no comma, no full stop):
# "don't transfer me to a human" is negated, "I don't understand, I want a human" is not.
_EN_NEGATED = re.compile(
    r"\b(?:don'?t|do\s+not|doesn'?t|no\s+need|never\s+mind|without|not\s+necessary)\s+(?:[\w']+\s+){0,4}?"
    r"(?:humans?|persons?|agents?|reps?|representatives?|operators?|someone|somebody|anyone|anybody|staff)\b",
    re.IGNORECASE,
)

# --- Chinese ---------------------------------------------------------------------------------------------

_ZH_OF_SHOP = r"(?:你们|贵店|店里|公司|贵公司)?(?:那边|这边)?的?"  # "你们那边的工作人员"
_ZH_PERSON = (
    r"(?:人工(?!智能|种植|合成|成本|费|湖|降雨|养殖|培育|繁殖)(?:客服|服务|坐席)?|真人(?:客服)?|活人"
    # "换个活的来回我": a living one, counted, then what it is to do (not "要个活的盆栽", a thing)
    r"|(?<=[个位])活的(?:人)?(?=来|回|跟|和|同|帮|出来|过来|吧|啊|呀|行|[，。！？,.!?\s]|$)"
    # the English words for one, typed among Chinese ("找个staff来处理", "转human"); not a word's beginning
    r"|(?<![A-Za-z])(?i:real\s?person|human|staff|agent|manager|supervisor|customer\s?service|operator)(?![A-Za-z])"
    # the Chinese words typed in pinyin ("有没有rengong kefu啊", "转renggong"): 人工, 客服, 真人
    r"|(?<![A-Za-z])(?i:ren\s?g?gong(?:\s?ke\s?fu)?|ke\s?fu|zhen\s?ren)(?![A-Za-z])"
    rf"|{_ZH_OF_SHOP}(?:客服(?:人员|小姐姐|小哥哥|专员|本人|MM|mm)?|同事|员工|工作人员|服务人员|经理|主管|负责人|专员"
    r"|店长|店主|老板|老板娘|领导|上级|管理员|值班人员|售后(?:人员|专员|客服)?"
    r"|(?:能|可以)?(?:做主|拍板|说了算|管事|负责)的(?:人|那个人|领导|工作人员|同事|员工|客服|经理)?)"
    r"|(?:你们|贵店|店里|公司|贵公司)的?人"
    # the one whose job the matter is: "管退款的人", "负责投诉的同事"
    r"|(?:管|负责|处理|专门管|专门负责)[^，。,.!?！？的]{1,6}的(?:人|同事|那位|那个人|客服|工作人员|员工|专员))"
)
# "申请发票的时候同事手快": applying for something, not asking anyone (请 of 申请, 邀请, 聘请); "请问你们客服几点上班"
# asks a question (请问), not for the person.
_ZH_ASK = (r"(?:转|转接|接|接通|找|要|换|叫|让|(?<![申邀聘宴])请(?!问|教)|求|联系|呼叫|切换到?|安排|派|需要|想要|要求"
           r"|希望|(?<![A-Za-z])(?i:transfer|pass|zhuan|zhao)(?![A-Za-z]))")  # "帮我transfer给售后的同事", "zhuan人工"
_ZH_TALK = r"(?:说|聊|谈|讲|沟通|对话|交流|联系|解释|回答|回复|处理)"
_ZH_REQUEST = re.compile(
    rf"{_ZH_ASK}(?!不到|不着)[^，。,.!?！？]{{0,5}}?{_ZH_PERSON}"
    rf"|(?:跟|和|与|同)\s*{_ZH_PERSON}\s*[^，。,.!?！？]{{0,3}}?{_ZH_TALK}"
    rf"|{_ZH_PERSON}[^，。,.!?！？]{{0,4}}?(?:跟我|和我|同我|给我|帮我|联系我|回我|回复我|打给我|来处理|出来|过来)"
    r"(?=[^，。,.!?！？]{0,4}(?:说|聊|谈|讲|沟通|回|打|处理|看|吧|吗|呢|啊|$|[，。,.!?！？]))"
    rf"|(?:有没有|有没|是否有|有)(?:个|一个|位)?{_ZH_PERSON}"
    r"(?=\s*(?:在|吗|么|嘛|啊|呀|吧|呢|哇|可以|能|帮|回|[?？]|$))"
    r"|(?:找|叫|来|安排|派)(?:个|一个|位)?人(?:来|过来)?(?:直接)?(?:帮|处理|解决|跟|和|聊|说|吧|吗|啊|呀|$"
    r"|给我回|给我打|联系我|回个电话)"
    # whether anyone can do it for the customer: "有没有人能直接帮我弄一下" (not "有没有人买过", a question about
    # others, nor "有人帮我签收了吗", whether someone did)
    r"|(?:有没有|有没)(?:人|谁)(?:能|可以)(?:直接)?(?:帮我|替我|帮忙|帮一下)"
    r"|(?:跟|和|与|同)(?:真|活)?人(?:说话|聊|谈|沟通|交流)"  # "我想和人说话"
    # the person first, then fetched: "把你们店长叫来", "让你们主管给我出来"
    rf"|把{_ZH_PERSON}(?:给我)?(?:叫|喊|请|找)(?:来|过来|出来)"
    # wanting to ring the shop and say it: "我想直接打过去说", "能打个电话沟通吗", "我打过去问" (not
    # "快递员会打电话给我吗", a call made, "我打电话问过了", nor one to the courier or a bank, "要打电话问顺丰吗")
    r"|(?:(?:想|要|希望|能不能|可以|能)(?:直接)?(?:打(?:个|一个|一通)?电话|打过去|打给你们|拨过去)"
    r"|我(?:直接)?(?:打过去|打给你们|拨过去))(?:过去)?(?:(?:跟|和|同)(?:你们|真人|活人|人)|给你们)?"  # "…跟人说"
    r"(?:说|聊|谈|沟通|讲|问|解释)"
    r"(?!过|了)(?![^，。！？,.!?]{0,6}(?:顺丰|快递|物流|银行|邮局))"
    # the shop asked to ring the customer, the request opening its clause ("能不能直接给我打个电话",
    # "你们可以电话联系我吗"; not the courier's call, "顺丰能不能打电话给我再送", nor one on arrival,
    # "到了可以打电话给我吗")
    r"|(?:^|(?<=[，。！？,.!?\s]))(?:你们?|客服)?(?:方便的话)?(?:能不能|可不可以|可以|能|麻烦|请)(?:你们?)?(?:直接)?"
    r"(?:给我打(?:个|一个|一通)?电话|打(?:个|一个|一通)?电话给我|电话联系我|打我(?:的)?电话|给我回(?:个)?电话)"
    rf"|(?:能不能|可不可以|可以|能否|麻烦|请)\s*{_ZH_PERSON}(?:来)?(?:处理|回复|回答|介入|跟进|看看|看一下|核实)"
    rf"|^\s*{_ZH_PERSON}\s*(?:在吗|在不在|在线吗|在么|呢)\s*[?？!！。.~～]*\s*$"  # "客服在吗？"
    # "我是在跟机器人说话还是真的有人在？", "到底有没有人在": whether a person is there at all, as "is anyone real
    # there" (what the bot is, "你是真人还是机器人", is a question about it, as "are you a human or a bot?")
    r"|(?:机器人|AI|ai|自动回复|智能客服)[^，。,.!?！？]{0,6}?还是[^，。,.!?！？]{0,6}?(?:有人在|真的有人|真人在)"
    r"|(?:有没有|到底有|真的有|有)(?:真)?人在(?:吗|么|嘛|不|没|啊|呀|呢|[?？]|\s*$)"
    rf"|^\s*(?:(?:我要|要|请|麻烦|转)?\s*{_ZH_PERSON}\s*(?:吧|呢|啊|呀|好吗|可以吗|谢谢)?\s*[，,!！?？。.~～\s]*){{1,4}}$"
)
_ZH_REFUSES_BOT = re.compile(
    r"(?:不想|不要|别|不愿意|受不了|不跟|不和|不需要)[^，。,.!?！？]{0,4}(?:机器人|机器|AI|ai|人工智能|智能客服|自动回复)"
)
_ZH_NEGATED = re.compile(rf"(?:不要|不用|不需要|无需|别|没必要|不必)[^，。,.!?！？]{{0,4}}(?:转|找|叫)?{_ZH_PERSON}")
# A person the sentence reports on, not asks for: "经理说可以退", "客服说三天到".
# A person the sentence reports on, not asks for: "经理说可以退", "客服说三天到" (but "跟你们客服说" asks).
_ZH_REPORTED = re.compile(rf"{_ZH_PERSON}(?:之前|上次|刚才|已经)?(?:说|告诉我|答应|承诺|讲)(?:过|了)?")
# "是机器人吧？换个真的来": a real one, in a message that names the bot ("我要个真的，不要仿品" asks for a genuine
# thing).
_ZH_BOT_NAMED = re.compile(r"机器人|(?<![A-Za-z])(?i:ai|bot)(?![A-Za-z])|自动回复|智能客服")
_ZH_REAL_ONE = re.compile(r"(?:要|换|找|来|叫|给我)(?:个|一个|位)真(?:的|人)")
# What the request is aimed with ("跟", "让"), and the shop's possessive that may stand between it and the person.
_ZH_AIMED = re.compile(r"[跟和与同让请叫找要](?:你们|贵店|店里|贵公司|公司)?的?$")


# The words the English rules read, which a hurried customer mistypes ("speek to a reel person"): a word one slip
# away from one of them (a letter changed, dropped, added, or two swapped) is read as it, unless it is a
# common word itself ("read", "walk", "tall", "peak").
_EN_RULE_WORDS = frozenset(
    "speak talk chat real human humans person people agent agents someone somebody anyone anybody staff actual "
    "representative operator manager supervisor".split()
)
_EN_REAL_WORDS = frozenset(
    "read reed walk tall tale peak spear sped team teal seal deal meal heal reels realm humane persona peoples "
    "agency agenda chap that what chart chant cheat actually stuff staff stiff".split()
)


def _one_slip(word: str, target: str) -> bool:
    if abs(len(word) - len(target)) > 1 or word == target:
        return False
    if len(word) == len(target):
        diffs = [i for i, (a, b) in enumerate(zip(word, target, strict=True)) if a != b]
        return len(diffs) == 1 or (len(diffs) == 2 and diffs[1] == diffs[0] + 1
                                   and word[diffs[0]] == target[diffs[1]] and word[diffs[1]] == target[diffs[0]])
    short, long = (word, target) if len(word) < len(target) else (target, word)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def _spelling_mended(text: str) -> str:
    def mend(match: re.Match[str]) -> str:
        word = match.group(0)
        lowered = word.lower()
        if len(lowered) < 4 or lowered in _EN_RULE_WORDS or lowered in _EN_REAL_WORDS:
            return word
        return next((target for target in sorted(_EN_RULE_WORDS) if _one_slip(lowered, target)), word)

    return re.sub(r"[A-Za-z]+", mend, text)


# Chat shorthand for the words the English rules read ("can sum1 from ur staff call me back?", "r u a bot"): each a
# word of its own (not the "u" of "U盘", nor a letter of a word).
_EN_SHORTHAND = {"u": "you", "ur": "your", "yr": "your", "r": "are", "ppl": "people", "sum1": "someone",
                 "some1": "someone", "any1": "anyone", "ne1": "anyone", "sb": "somebody", "sth": "something",
                 "2": "to", "thru": "through", "pls": "please", "plz": "please"}
_EN_SHORTHAND_WORD = re.compile(rf"(?<![\w'’])(?:{'|'.join(_EN_SHORTHAND)})(?![\w'’])", re.IGNORECASE)


def _shorthand_spelled_out(text: str) -> str:
    return _EN_SHORTHAND_WORD.sub(lambda found: _EN_SHORTHAND[found.group(0).lower()], text)


def asks_for_person(text: str) -> bool:
    """Whether the message asks to be answered by a person (or refuses the bot), in English or Chinese."""
    text = _spelling_mended(_shorthand_spelled_out(" ".join(text.split())))
    if not text:
        return False
    if _EN_REFUSES_BOT.search(text) or _ZH_REFUSES_BOT.search(text):
        return True
    if _EN_NEGATED.search(text) or _ZH_NEGATED.search(text):
        return False
    if _EN_REQUEST.search(text):
        return True
    if (_EN_BOT_NAMED.search(text) and _EN_REAL_ONE.search(text)) or (
            _ZH_BOT_NAMED.search(text) and _ZH_REAL_ONE.search(text)):
        return True
    return bool(_ZH_REQUEST.search(_ZH_REPORTED.sub(lambda found: _unless_aimed(found, text), text)))


def _unless_aimed(found: re.Match[str], text: str) -> str:
    """A reported person blanked out, unless the words before aim the request at them ("跟你们客服说")."""
    return found.group(0) if _ZH_AIMED.search(text[: found.start()]) else "，"
