"""Writes the document-format fixtures (Tests/KnowledgeTests/Fixtures/formats) and the demo documents.

Run through scripts/make-format-fixtures.sh, which makes the virtualenv with the generators.
Deterministic where the generators allow: fixed texts, fixed dates, no random content except
from seeded generators, so re-running gives files with the same extracted text.
"""
import datetime, email.header, email.mime.application, email.mime.multipart, email.mime.text, email.utils
import io, json, hashlib, os, random, sys, zipfile, zlib

from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet, ParagraphStyle
from reportlab.lib import colors
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph, Spacer, Table, TableStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
import docx, openpyxl, pptx
from pptx.util import Inches, Pt

OUT = sys.argv[1]
CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
os.makedirs(OUT, exist_ok=True)
def path(name): return os.path.join(OUT, name)

pdfmetrics.registerFont(TTFont("WQY", CJK_FONT, subfontIndex=0))
styles = getSampleStyleSheet()
body = ParagraphStyle("body", parent=styles["BodyText"], fontName="Helvetica", fontSize=9.5, leading=12)
zh = ParagraphStyle("zh", parent=body, fontName="WQY")
h1 = ParagraphStyle("h1", parent=styles["Heading2"], fontName="Helvetica-Bold", fontSize=12)
h2 = ParagraphStyle("h2", parent=styles["Heading3"], fontName="Helvetica-Bold", fontSize=10.5)

def two_column_pdf(name, title, sections, header, invariant=0):
    """A two-column A4 report with a running header and a page-number footer on every page."""
    def decorate(canvas, doc):
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.drawString(50, A4[1] - 40, header)
        canvas.drawRightString(A4[0] - 50, 30, "Page %d" % doc.page)
        canvas.restoreState()
    doc = BaseDocTemplate(path(name), pagesize=A4, title=title, author="Strata fixtures", invariant=1,
                          leftMargin=50, rightMargin=50, topMargin=60, bottomMargin=50)
    w = (A4[0] - 100 - 20) / 2
    frames = [Frame(50, 50, w, A4[1] - 110, id="left"), Frame(50 + w + 20, 50, w, A4[1] - 110, id="right")]
    doc.addPageTemplates([PageTemplate(id="two", frames=frames, onPage=decorate)])
    story = []
    for kind, content in sections:
        if kind == "h1": story.append(Paragraph(content, h1))
        elif kind == "h2": story.append(Paragraph(content, h2))
        elif kind == "p": story.append(Paragraph(content, body))
        elif kind == "zh": story.append(Paragraph(content, zh))
        elif kind == "table":
            t = Table(content, hAlign="LEFT")
            t.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), "Helvetica", 8.5), ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8.5),
                                   ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black)]))
            story.append(t)
        story.append(Spacer(1, 5))
    doc.build(story)

filler = [
    "The board reviews the capital plan every quarter against the stress scenarios agreed with the supervisor.",
    "Risk-weighted assets grew with the retail loan book while the corporate book stayed flat over the year.",
    "Liquidity buffers are held in central bank reserves and high-quality government bonds of short maturity.",
    "Each business line reports its exposures by sector, region and rating grade to the risk committee monthly.",
]
def para(seed, n=4):
    return " ".join(filler[(seed + i) % len(filler)] for i in range(n))

report = [
    ("h1", "1 Overview"), ("p", "Jiangnan Bank reports its capital position for the third quarter of 2026. " + para(0)),
    ("p", para(1, 5)), ("h2", "1.1 Scope"), ("p", "This report covers the parent bank and its two leasing subsidiaries. " + para(2, 6)),
    ("p", para(3, 6)), ("h1", "2 Funding"), ("p", para(0, 8)), ("p", para(2, 8)),
    ("h1", "3 Capital"), ("h2", "3.1 Own funds"), ("p", "Common equity tier 1 capital rose to 182.4 billion yuan. " + para(1, 6)),
    ("h2", "3.2 Capital adequacy"),
    ("p", "The capital adequacy ratio stood at 14.62 percent at the end of September, well above the regulatory floor of 10.5 percent."),
    ("table", [["Ratio", "2025", "2026", "Minimum"], ["CET1 ratio", "10.85%", "11.20%", "7.50%"],
               ["Tier 1 ratio", "12.01%", "12.34%", "8.50%"], ["Total capital ratio", "14.10%", "14.62%", "10.50%"]]),
    ("zh", "资本充足率为14.62%，高于监管要求。"),
    ("p", para(3, 8)), ("h1", "4 Outlook"), ("p", para(0, 8)), ("p", "Management expects the ratio to stay above 14 percent through 2027. " + para(1, 6)),
    ("p", para(2, 10)), ("h2", "4.1 Dividend"), ("p", "The board proposes an interim dividend of 0.21 yuan per share. " + para(3, 10)),
    ("p", para(1, 12)), ("h1", "5 Risk management"), ("p", para(0, 12)), ("p", para(2, 12)),
]
two_column_pdf("report.pdf", "Capital report 3Q26", report, "Jiangnan Bank - Capital Report 3Q26")

# --- scanned page (image only) in Chinese: PNG and a one-page PDF without a text layer --------------
SCAN_LINES = ["江南银行个人贷款须知", "一、贷款年利率为百分之四点二。", "二、提前还款需提前十个工作日申请。", "三、逾期将按日收取万分之五的罚息。"]
def scanned_image():
    # Grey anti-aliased text, as a 300 dpi scanner gives it (binarised text OCRs visibly worse).
    font = ImageFont.truetype(CJK_FONT, 48, index=0)
    img = Image.new("L", (1240, 560), 255)
    d = ImageDraw.Draw(img)
    for i, line in enumerate(SCAN_LINES):
        d.text((80, 70 + i * 100), line, font=font, fill=0)
    return img
img = scanned_image()
img.save(path("scan-zh.png"), optimize=True)
FIXED = datetime.datetime(2026, 1, 1)
import time; STAMP = time.gmtime(1767225600)
img.save(path("scan-zh.pdf"), resolution=300.0, creationDate=STAMP, modDate=STAMP)

# A PDF whose first page has a text layer and whose second is a scan: the OCR share is one page of two.
from reportlab.pdfgen import canvas
c = canvas.Canvas(path("mixed.pdf"), pagesize=(595, 842), invariant=1)
c.setFont("Helvetica", 12)
c.drawString(72, 760, "Loan terms summary. The scanned notice on the next page gives the personal loan rate.")
c.showPage()
c.drawImage(path("scan-zh.png"), 0, 842 - 270, width=595, height=270)
c.showPage()
c.save()

# --- DOCX: headings, list, table, footnote ---------------------------------------------------------
def make_docx(dest, title, blocks, footnote=None):
    d = docx.Document()
    d.core_properties.title = title
    d.core_properties.created = datetime.datetime(2026, 1, 1)
    d.core_properties.modified = datetime.datetime(2026, 1, 1)
    for kind, content in blocks:
        if kind.startswith("h"): d.add_heading(content, level=int(kind[1]))
        elif kind == "p": d.add_paragraph(content)
        elif kind == "li": d.add_paragraph(content, style="List Bullet")
        elif kind == "table":
            t = d.add_table(rows=len(content), cols=len(content[0]))
            for r, row in enumerate(content):
                for c, v in enumerate(row): t.cell(r, c).text = v
    buf = io.BytesIO(); d.save(buf)
    data = buf.getvalue()
    if footnote: data = add_footnote(data, *footnote)
    write_zip_deterministic(dest, data)

def add_footnote(data, anchor, note):
    """python-docx writes no footnotes: add word/footnotes.xml and a reference after `anchor`."""
    src = zipfile.ZipFile(io.BytesIO(data))
    files = {n: src.read(n) for n in src.namelist()}
    W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    files["word/footnotes.xml"] = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:footnotes {W}><w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
        f'<w:footnote w:id="1"><w:p><w:r><w:t>{note}</w:t></w:r></w:p></w:footnote></w:footnotes>').encode()
    doc = files["word/document.xml"].decode()
    i = doc.index(anchor) + len(anchor)
    i = doc.index("</w:r>", i) + len("</w:r>")
    doc = doc[:i] + '<w:r><w:rPr><w:rStyle w:val="FootnoteReference"/></w:rPr><w:footnoteReference w:id="1"/></w:r>' + doc[i:]
    files["word/document.xml"] = doc.encode()
    rels = files["word/_rels/document.xml.rels"].decode()
    rels = rels.replace("</Relationships>", '<Relationship Id="rIdFn1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes" Target="footnotes.xml"/></Relationships>')
    files["word/_rels/document.xml.rels"] = rels.encode()
    ct = files["[Content_Types].xml"].decode()
    ct = ct.replace("</Types>", '<Override PartName="/word/footnotes.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"/></Types>')
    files["[Content_Types].xml"] = ct.encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for n, b in files.items(): z.writestr(n, b)
    return out.getvalue()

def write_zip_deterministic(dest, data):
    """Rewrites a ZIP with fixed timestamps, so the fixture's bytes do not change between runs."""
    src = zipfile.ZipFile(io.BytesIO(data))
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":     # generators stamp the save time here
                import re
                data = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*", rb"\g<1>2026-01-01T00:00:00Z", data)
            z.writestr(zi, data)

make_docx(path("handbook.docx"), "Branch handbook", [
    ("h1", "Branch handbook"), ("p", "This handbook sets out how branches serve retail customers."),
    ("h2", "Opening hours"), ("p", "Branches open at nine and close at five on weekdays."),
    ("li", "Saturday service runs from ten to two at city branches."), ("li", "Sunday service is by appointment only."),
    ("h2", "Cash limits"), ("p", "Counter withdrawals above the daily limit need a day's notice."),
    ("table", [["Service", "Daily limit", "Notice"], ["Cash withdrawal", "50,000 CNY", "1 day"], ["Foreign cash", "USD 5,000", "2 days"]]),
    ("h3", "Exceptions"), ("p", "A branch manager may approve a higher limit for a verified emergency."),
], footnote=("verified emergency.", "Emergencies are recorded in the branch incident log."))

# --- XLSX: two sheets, shared strings, numbers, a date --------------------------------------------
def make_xlsx(dest, sheets):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets:
        ws = wb.create_sheet(name)
        for r in rows: ws.append(r)
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, datetime.date): c.number_format = "yyyy-mm-dd"
    wb.properties.created = wb.properties.modified = datetime.datetime(2026, 1, 1)
    buf = io.BytesIO(); wb.save(buf)
    write_zip_deterministic(dest, buf.getvalue())

make_xlsx(path("fees.xlsx"), [
    ("Cards", [["card", "annual_fee", "waiver", "effective"], ["Classic debit", 0, "none needed", datetime.date(2026, 1, 1)],
               ["Gold credit", 300, "6 purchases a year", datetime.date(2026, 3, 1)], ["Platinum credit", 2000.5, "points", datetime.date(2026, 7, 15)]]),
    ("Transfers", [["service", "fee", "note"], ["Domestic wire", 15, "same day"], ["跨境汇款", 50, "按金额千分之一，最低50元"]]),
])

# --- PPTX: titles, bullets, notes -------------------------------------------------------------------
def make_pptx(dest, slides):
    p = pptx.Presentation()
    for title, bullets, notes in slides:
        s = p.slides.add_slide(p.slide_layouts[1])
        s.shapes.title.text = title
        tf = s.placeholders[1].text_frame
        tf.text = bullets[0]
        for b in bullets[1:]: tf.add_paragraph().text = b
        if notes: s.notes_slide.notes_text_frame.text = notes
    p.core_properties.created = p.core_properties.modified = datetime.datetime(2026, 1, 1)
    buf = io.BytesIO(); p.save(buf)
    write_zip_deterministic(dest, buf.getvalue())

make_pptx(path("deck.pptx"), [
    ("Memory cycle outlook", ["HBM demand doubles in 2027", "DRAM contract prices up 12% quarter on quarter"], "Open with the HBM chart."),
    ("Risks", ["Capex discipline may slip", "Export controls tighten"], None),
    ("Recommendation", ["Overweight memory makers", "目标价上调至180元"], "Stress that the call is for twelve months."),
])

# --- text encodings ---------------------------------------------------------------------------------
GBK_TEXT = "# 退款须知\n\n申请退款需要几天？一般情况下，退款会在七个工作日内到账。\n如需修改收款账户，请联系客服。\n"
open(path("notice-gbk.txt"), "wb").write(GBK_TEXT.encode("gbk"))
open(path("notice-big5.txt"), "wb").write("信用卡年費說明\n\n白金卡年費為兩千元，每年刷卡六次可免年費。\n".encode("big5"))
open(path("accounts-utf16.csv"), "wb").write("\ufeffaccount,owner,balance\nA-001,张三,1200.50\nA-002,Li Wei,88\n".encode("utf-16-le"))
open(path("notes-utf16be.txt"), "wb").write("Branch notes: the vault opens at eight.\n".encode("utf-16-be"))
open(path("bom.md"), "wb").write("\ufeff# Deposit rules\n\nTime deposits renew automatically at maturity.\n".encode("utf-8"))

# --- e-mail in GBK with an HTML alternative and an attachment; an mbox of two messages ----------
def gbk_mail(subject, text, html, attachment=None, date="Mon, 23 Nov 2026 09:30:00 +0800", msgid="<1@jiangnan.example>"):
    m = email.mime.multipart.MIMEMultipart("mixed", boundary="==strata-mixed-" + msgid.strip("<>@.") + "==")
    m["From"] = email.utils.formataddr((str(email.header.Header("王经理", "gbk")), "wang@jiangnan.example"))
    m["To"] = "branches@jiangnan.example"
    m["Date"] = date
    m["Subject"] = email.header.Header(subject, "gbk").encode()
    m["Message-ID"] = msgid
    alt = email.mime.multipart.MIMEMultipart("alternative", boundary="==strata-alt-" + msgid.strip("<>@.") + "==")
    alt.attach(email.mime.text.MIMEText(text, "plain", "gbk"))
    alt.attach(email.mime.text.MIMEText(html, "html", "gbk"))
    m.attach(alt)
    if attachment:
        name, data = attachment
        a = email.mime.application.MIMEApplication(data, Name=name)
        a["Content-Disposition"] = 'attachment; filename="%s"' % name
        m.attach(a)
    return m.as_bytes()

mail = gbk_mail("关于调整跨境汇款手续费的通知", "各网点：\n自十二月一日起，跨境汇款手续费调整为每笔八十元。\n请提前告知客户。\n",
                "<html><body><nav>首页 | 通知</nav><p>各网点：</p><p>自十二月一日起，跨境汇款手续费调整为每笔八十元。</p></body></html>",
                ("rates.csv", "currency,rate\nUSD,7.12\nEUR,7.80\n".encode()))
open(path("notice-gbk.eml"), "wb").write(mail)
m1 = gbk_mail("周一晨会纪要", "晨会决定：本周重点推广三个月定期存款。\n", "<p>晨会决定：本周重点推广三个月定期存款。</p>", msgid="<2@jiangnan.example>")
m2 = email.mime.text.MIMEText("<html><body><nav>首页 | 通知 | 帮助</nav><p>收到，网点将在周二前完成培训。</p><footer>江南银行版权所有</footer></body></html>", "html", "gbk")
m2["From"] = "branch12@jiangnan.example"; m2["To"] = "wang@jiangnan.example"; m2["Date"] = "Tue, 24 Nov 2026 10:00:00 +0800"
m2["Subject"] = email.header.Header("Re: 周一晨会纪要", "gbk").encode(); m2 = m2.as_bytes()
with open(path("meetings.mbox"), "wb") as f:
    for m in (m1, m2):
        f.write(b"From wang@jiangnan.example Mon Nov 23 09:30:00 2026\n" + m.replace(b"\nFrom ", b"\n>From ") + b"\n")

# --- bad input kept small: encrypted PDF, zip bomb (ratio far over 100) ------------------------------
from reportlab.lib import pdfencrypt
c = canvas.Canvas(path("encrypted.pdf"), encrypt=pdfencrypt.StandardEncryption("secret", canPrint=0), invariant=1)
c.drawString(100, 750, "Confidential: the password protects this text."); c.save()
with zipfile.ZipFile(path("bomb.xlsx"), "w", zipfile.ZIP_DEFLATED) as z:
    zi = zipfile.ZipInfo("[Content_Types].xml", date_time=(2026, 1, 1, 0, 0, 0)); z.writestr(zi, "<Types/>")
    zi = zipfile.ZipInfo("xl/worksheets/sheet1.xml", date_time=(2026, 1, 1, 0, 0, 0)); zi.compress_type = zipfile.ZIP_DEFLATED
    z.writestr(zi, b" " * (20 << 20))

# --- zip reference: stored and deflated entries at every level; SHA-256 of each as Python reads it ---
rng = random.Random(7)
entries = {"stored.txt": (b"stored entry, no compression\n" * 40, zipfile.ZIP_STORED, None),
           "empty.txt": (b"", zipfile.ZIP_DEFLATED, 6), "random.bin": (bytes(rng.getrandbits(8) for _ in range(20000)), zipfile.ZIP_DEFLATED, 9)}
words = "bank loan deposit 银行 贷款 利率 rate fee card refund".split()
for level in range(0, 10):
    text = " ".join(rng.choice(words) for _ in range(3000 + level * 500)).encode()
    entries["text-level%d.txt" % level] = (text, zipfile.ZIP_DEFLATED, level)
entries["zeros.bin"] = (bytes(70000), zipfile.ZIP_DEFLATED, 9)
manifest = {}
with zipfile.ZipFile(path("zip-reference.zip"), "w") as z:
    for name, (data, method, level) in entries.items():
        zi = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)); zi.compress_type = method
        z.writestr(zi, data, compresslevel=level)
        manifest[name] = hashlib.sha256(data).hexdigest()
json.dump(manifest, open(path("zip-reference.json"), "w"), indent=1, sort_keys=True)
print("fixtures written to", OUT)

# --- demo documents (Knowledge/documents): bank material found nowhere else in Knowledge/ -------------
# A two-page PDF whose rent table is on page 2 (so `make demo` can show a citation with the page),
# and a DOCX procedure. Written only when a second folder is given.
if len(sys.argv) > 2:
    DEMO = sys.argv[2]
    os.makedirs(DEMO, exist_ok=True)
    def demo_pdf(dest):
        def decorate(canvas, doc):
            canvas.saveState(); canvas.setFont("Helvetica", 8)
            canvas.drawString(60, A4[1] - 40, "Harbor Bank & Securities - Safe deposit boxes")
            canvas.drawRightString(A4[0] - 60, 30, "Page %d" % doc.page); canvas.restoreState()
        doc = BaseDocTemplate(dest, pagesize=A4, title="Safe deposit boxes", author="Harbor Bank & Securities", invariant=1,
                              leftMargin=60, rightMargin=60, topMargin=60, bottomMargin=50)
        doc.addPageTemplates([PageTemplate(id="one", frames=[Frame(60, 50, A4[0] - 120, A4[1] - 110)], onPage=decorate)])
        from reportlab.platypus import PageBreak
        story = [Paragraph("1 The service", h1),
                 Paragraph("Harbor Bank &amp; Securities rents safe deposit boxes at its Shanghai Pudong, Shanghai Xuhui, Beijing Chaoyang "
                           "and Shenzhen Futian branches. A box is rented for one year at a time and renews automatically unless the "
                           "renter gives notice at the branch one month before the end of the term.", body),
                 Paragraph("Any adult retail customer with a Harbor debit account may rent a box. Up to two co-renters may be added; each "
                           "co-renter signs the rental agreement in person and records a fingerprint at the branch.", body),
                 Paragraph("Boxes may not hold cash above RMB 50,000, weapons, drugs, flammable or perishable items. The bank does not "
                           "know what a box holds and does not insure its contents; renters may buy contents insurance separately.", body),
                 PageBreak(),
                 Paragraph("2 Rent and key deposit", h1),
                 Paragraph("Rent is charged once a year to the renter's debit account. The key deposit is refunded when the box is "
                           "returned with both keys.", body),
                 Table([["Box size", "Inside (cm)", "Annual rent", "Key deposit"], ["Small", "5 x 25 x 50", "RMB 300", "RMB 500"],
                        ["Medium", "10 x 25 x 50", "RMB 600", "RMB 500"], ["Large", "20 x 30 x 50", "RMB 1,200", "RMB 800"]], hAlign="LEFT"),
                 Spacer(1, 8),
                 Paragraph("3 Access and lost keys", h1),
                 Paragraph("The vault is open during branch hours on weekdays, 9:30 to 16:00. A lost key costs RMB 200 to replace; if "
                           "both keys are lost the box is drilled open in the renter's presence for a fee of RMB 1,500.", body)]
        doc.build(story)
    demo_pdf(os.path.join(DEMO, "safe-deposit-boxes.pdf"))
    make_docx(os.path.join(DEMO, "counterfeit-banknotes.docx"), "Suspected counterfeit banknotes", [
        ("h1", "Suspected counterfeit banknotes"),
        ("p", "This procedure applies when a teller finds a banknote that the counting machine or the teller judges to be counterfeit."),
        ("h2", "At the counter"),
        ("li", "Two staff members confirm the note in front of the customer."),
        ("li", "The note is stamped 'counterfeit' and confiscated; the customer receives a confiscation certificate."),
        ("li", "Five or more counterfeit notes in one transaction are reported to the public security bureau the same day."),
        ("h2", "Appeals"),
        ("p", "A customer who disagrees may appeal within three business days to an appraisal centre designated by the People's Bank of China, "
              "showing the confiscation certificate. The appraisal is free of charge."),
        ("table", [["Denomination", "Machine check", "Manual check"], ["RMB 100", "Magnetic and UV", "Watermark and security thread"],
                   ["RMB 50", "Magnetic and UV", "Watermark"]]),
    ])
    print("demo documents written to", DEMO)
