"""What an uploaded file is, judged from its bytes alone (never its name or the type the
client claims): PDF, JPEG, PNG, and the Office Open XML pair XLSX and DOCX. Anything else
— an EXE renamed .pdf, an HTML page, a macro workbook — is 422 FILE_TYPE_NOT_ALLOWED.

XLSX and DOCX are zip archives. Their directory is read without inflating anything, a
zip bomb is refused on its declared sizes, and then every member is inflated in bounded
chunks, so a lying directory cannot make us inflate more than the limit either (and a
damaged archive, whose CRC fails, is refused too).
"""
from __future__ import annotations

import io
import zipfile

from coop.errors import RuleViolation, TooLarge

TYPES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
EXTENSIONS = {"pdf": ".pdf", "jpeg": ".jpg", "png": ".png", "xlsx": ".xlsx", "docx": ".docx"}
# An Office file inflates ~5–20×; these bound what a hostile archive can cost us.
MAX_UNZIPPED = 200 * 1024 * 1024
MAX_RATIO = 200
MAX_MEMBERS = 5_000
CHUNK = 1024 * 1024


def _not_allowed(why: str) -> RuleViolation:
    return RuleViolation(f"不支持的文件类型：{why}。仅接受 PDF、JPEG、PNG、XLSX、DOCX 文件",
                         code="FILE_TYPE_NOT_ALLOWED", errors={"file": [why]})


def sniff(data: bytes) -> str:
    """The file's type key in TYPES, or FILE_TYPE_NOT_ALLOWED / 413 for a zip bomb."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"PK\x03\x04"):
        return _office(data)
    if data[:2] == b"MZ" or data[:4] == b"\x7fELF":
        raise _not_allowed("可执行程序")
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<svg", b"<script")):
        raise _not_allowed("网页或脚本")
    raise _not_allowed("无法识别的文件内容")


def _office(data: bytes) -> str:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise _not_allowed("损坏的压缩文件") from None
    names = {info.filename for info in members}
    if len(members) > MAX_MEMBERS:
        raise TooLarge("压缩文件中的文件过多")
    declared = sum(info.file_size for info in members)
    if declared > MAX_UNZIPPED or any(
            info.file_size > CHUNK and info.file_size > MAX_RATIO * max(info.compress_size, 1)
            for info in members):
        raise TooLarge("文件解压后过大（疑似压缩炸弹）")
    if "[Content_Types].xml" not in names:
        raise _not_allowed("不是 Office 文档的压缩文件")
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise _not_allowed("含宏的 Office 文档")
    if "xl/workbook.xml" in names:
        kind = "xlsx"
    elif "word/document.xml" in names:
        kind = "docx"
    else:
        raise _not_allowed("不是 XLSX 或 DOCX 文档")
    _inflate_bounded(archive, members)
    return kind


def _inflate_bounded(archive: zipfile.ZipFile, members) -> None:
    """Inflate every member in chunks, stopping past MAX_UNZIPPED; CRCs are checked."""
    total = 0
    try:
        for info in members:
            with archive.open(info) as fh:
                while chunk := fh.read(CHUNK):
                    total += len(chunk)
                    if total > MAX_UNZIPPED:
                        raise TooLarge("文件解压后过大（疑似压缩炸弹）")
    except TooLarge:
        raise
    except Exception:  # noqa: BLE001 - a bad member (CRC, method, encryption) is the file's fault
        raise _not_allowed("损坏的压缩文件") from None

