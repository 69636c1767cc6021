"""Copies Knowledge/ to OUT with a share of it in the formats banks keep documents in.

- policies/*.en.md -> alternately PDF and DOCX; policies/*.zh.md -> PDF (CJK font embedded)
  (sections numbered "1", "1.1" as policy documents are, tables kept as tables)
- business/fee_schedule.csv -> business/fee_schedule.xlsx (for `strata data import`)
- research/memory-hbm-cycle.en.md -> a PPTX, one slide per section, the first paragraph as notes
- faq/credit-cards.en.md and faq/credit-cards.zh.md -> e-mail threads (.mbox; the Chinese one in GBK):
  the FAQ's opening text as the service's first message, then one message per question with the
  answer as the reply
The Markdown originals of converted files are removed from the copy, so each fact is in one place.
"""
import datetime, email.header, email.mime.text, email.utils, os, re, shutil, sys, csv
import docx, openpyxl, pptx
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet, ParagraphStyle
from reportlab.lib import colors
from reportlab.platypus import SimpleDocTemplate, Paragraph, Spacer, Table, TableStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from xml.sax.saxutils import escape

SRC, OUT = sys.argv[1], sys.argv[2]
shutil.rmtree(OUT, ignore_errors=True)
shutil.copytree(SRC, OUT)
pdfmetrics.registerFont(TTFont("WQY", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", subfontIndex=0))
ss = getSampleStyleSheet()

def blocks(md):
    """Markdown as (kind, payload): heading (level, text), para, item, table rows."""
    out, para, table = [], [], []
    def flush():
        nonlocal para, table
        if para: out.append(("p", " ".join(para))); para = []
        if table: out.append(("table", table)); table = []
    for line in md.splitlines():
        s = line.strip()
        m = re.match(r"^(#{1,6})\s+(.*)$", s)
        if m: flush(); out.append(("h", (len(m.group(1)), m.group(2)))); continue
        if s.startswith("|"):
            if para: out.append(("p", " ".join(para))); para = []
            cells = [c.strip() for c in s.strip("|").split("|")]
            if not all(re.match(r"^:?-+:?$", c) for c in cells): table.append(cells)
            continue
        if not s: flush(); continue
        if re.match(r"^([-*+]|\d+[.)])\s+", s):
            flush(); out.append(("li", re.sub(r"^([-*+]|\d+[.)])\s+", "", s))); continue
        if table: flush()
        para.append(s)
    flush()
    return out

def plain(t): return re.sub(r"\*\*(.+?)\*\*|\*(.+?)\*|`(.+?)`", lambda m: next(g for g in m.groups() if g), t)

def numbered(bs):
    """Headings below the title numbered 1, 1.1, … as in a policy document."""
    counters, out = [0] * 7, []
    for kind, payload in bs:
        if kind == "h" and payload[0] >= 2:
            lvl = payload[0] - 1
            counters[lvl] += 1
            for i in range(lvl + 1, 7): counters[i] = 0
            out.append(("h", (payload[0], ".".join(str(c) for c in counters[1:lvl + 1]) + " " + payload[1])))
        else:
            out.append((kind, payload))
    return out

def to_pdf(md, dest, cjk):
    font = "WQY" if cjk else "Helvetica"
    body = ParagraphStyle("b", parent=ss["BodyText"], fontName=font, fontSize=10, leading=14, wordWrap="CJK" if cjk else None)
    hs = {1: ParagraphStyle("h1", parent=ss["Title"], fontName=font), 2: ParagraphStyle("h2", parent=ss["Heading2"], fontName=font),
          3: ParagraphStyle("h3", parent=ss["Heading3"], fontName=font)}
    story = []
    for kind, p in numbered(blocks(md)):
        if kind == "h": story.append(Paragraph(escape(plain(p[1])), hs[min(3, p[0])]))
        elif kind == "p": story.append(Paragraph(escape(plain(p)), body))
        elif kind == "li": story.append(Paragraph("• " + escape(plain(p)), body))
        elif kind == "table":
            cell = ParagraphStyle("c", parent=body, fontSize=8.5, leading=11)
            t = Table([[Paragraph(escape(plain(c)), cell) for c in r] for r in p], hAlign="LEFT")
            t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.3, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
            story.append(t)
        story.append(Spacer(1, 4))
    title = next((plain(p[1]) for k, p in blocks(md) if k == "h" and p[0] == 1), os.path.basename(dest))
    SimpleDocTemplate(dest, pagesize=A4, invariant=1, title=title).build(story)

def to_docx(md, dest):
    d = docx.Document()
    for kind, p in blocks(md):
        if kind == "h": d.add_heading(plain(p[1]), level=min(p[0], 9))
        elif kind == "p": d.add_paragraph(plain(p))
        elif kind == "li": d.add_paragraph(plain(p), style="List Bullet")
        elif kind == "table":
            t = d.add_table(rows=len(p), cols=max(len(r) for r in p))
            for i, r in enumerate(p):
                for j, c in enumerate(r): t.cell(i, j).text = plain(c)
    d.save(dest)

converted = []
policies = os.path.join(OUT, "policies")
english = 0
for name in sorted(n for n in os.listdir(policies) if n.endswith(".md")):
    src = os.path.join(policies, name)
    md = open(src, encoding="utf-8").read()
    stem = name[:-3]
    if not name.endswith(".zh.md"): english += 1
    if name.endswith(".zh.md") or english % 2 == 1:
        to_pdf(md, os.path.join(policies, stem + ".pdf"), cjk=name.endswith(".zh.md")); converted.append(stem + ".pdf")
    else:
        to_docx(md, os.path.join(policies, stem + ".docx")); converted.append(stem + ".docx")
    os.remove(src)

fees = os.path.join(OUT, "business", "fee_schedule.csv")
wb = openpyxl.Workbook(); ws = wb.active; ws.title = "fee_schedule"
for row in csv.reader(open(fees, encoding="utf-8")): ws.append(row)
wb.save(fees[:-4] + ".xlsx"); os.remove(fees); converted.append("fee_schedule.xlsx")

note = os.path.join(OUT, "research", "memory-hbm-cycle.en.md")
md = open(note, encoding="utf-8").read()
deck = pptx.Presentation()
bs = blocks(md)
sections, cur = [], None
for kind, p in bs:
    if kind == "h":
        cur = [plain(p[1]), []]; sections.append(cur)
    elif cur is not None:
        cur[1].append((kind, p))
    else:
        sections.append(["Memory and HBM", [(kind, p)]]); cur = sections[-1]
for title, content in sections:
    s = deck.slides.add_slide(deck.slide_layouts[1])
    s.shapes.title.text = title
    tf = s.placeholders[1].text_frame
    texts = []
    for kind, p in content:
        if kind == "table": texts += [" | ".join(plain(c) for c in r) for r in p]
        else: texts.append(plain(p))
    if texts:
        tf.text = texts[0]
        for t in texts[1:]: tf.add_paragraph().text = t
    if content and content[0][0] == "p": s.notes_slide.notes_text_frame.text = "Talk track: " + plain(content[0][1])[:200]
deck.save(note[:-3] + ".pptx"); os.remove(note); converted.append("memory-hbm-cycle.en.pptx")

def faq_mbox(src, charset):
    md = open(src, encoding="utf-8").read()
    bs = blocks(md)
    title = next(p[1] for k, p in bs if k == "h" and p[0] == 1)
    # The text before the first question (what the FAQ covers, whom to call) opens the thread as
    # the service's own message, so no sentence of the FAQ is lost in the conversion.
    preamble, qa, cur = [], [], None
    for kind, p in bs:
        if kind == "h" and p[0] >= 2: cur = [plain(p[1]), []]; qa.append(cur)
        elif kind == "h": continue
        else:
            part = preamble if cur is None else cur[1]
            if kind == "table": part += [" | ".join(plain(c) for c in r) for r in p]
            elif kind == "li": part.append("- " + plain(p))
            else: part.append(plain(p))
    service = "service@harborbank.example"
    messages = [(service, "customers@harborbank.example", plain(title), "\n\n".join(preamble), 0)] if preamble else []
    for n, (q, answer) in enumerate(qa):
        customer = "customer%d@example.com" % n
        messages += [(customer, service, q, q, n), (service, customer, "Re: " + q, "\n\n".join(answer), n)]
    with open(src[:-3] + ".mbox", "wb") as f:
        for who, to, subject, text, n in messages:
            m = email.mime.text.MIMEText(text, "plain", charset)
            m["From"] = who; m["To"] = to
            m["Date"] = email.utils.format_datetime(datetime.datetime(2026, 11, 1, 9, n % 60, tzinfo=datetime.timezone.utc))
            m["Subject"] = email.header.Header(subject, charset).encode()
            f.write(b"From " + who.encode() + b" Sun Nov  1 09:00:00 2026\n" + m.as_bytes().replace(b"\nFrom ", b"\n>From ") + b"\n\n")
    os.remove(src)
    return os.path.basename(src[:-3] + ".mbox")

converted.append(faq_mbox(os.path.join(OUT, "faq", "credit-cards.en.md"), "utf-8"))
converted.append(faq_mbox(os.path.join(OUT, "faq", "credit-cards.zh.md"), "gbk"))
print("converted:", ", ".join(converted))
