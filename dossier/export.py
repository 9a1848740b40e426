"""The case dossier for a court or a regulator (issue 5 item 7): one ZIP holding

    dossier.pdf              the case facts, proceedings, crisis checklist, timeline, evidence list
                             with SHA-256, and the ledger proof summary
    evidence.json            every evidence item of the case: hash, name, included / deleted / missing
    evidence/<sha256>-<name> every evidence file whose content still exists
    ledger/events.json       the case's hash chain, exactly the fields ledger.chain.event_hash hashes
    ledger/checkpoint.json   the checkpoint that seals the chain's head (ledger.chain.checkpoint_hash)
    verify.py                the offline verifier (dossier/verify.py, standard library only)
    manifest.json, SHA256SUMS  the SHA-256 of every other file

See docs/dossier.md. Building it is a read of the case: one `export_dossier` ledger event (naming the
manifest's hash), which does not move the case's version."""

import hashlib
import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from django.apps import apps as django_apps
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.actions import check_may
from complaints.choices import Channel, RiskFlag, Status
from complaints.ledgering import Actor
from complaints.models import Complaint
from evidence import store
from evidence.models import Evidence
from ledger import chain
from ledger.crypto import SHREDDED, decrypt
from ledger.models import Checkpoint, LedgerEvent, SealedHead

from . import actions
from .models import CrisisChecklist, ExternalProceeding
from .verify import FORMAT

_CHUNK = 1 << 20
# How far past the sealed event's time the covering checkpoint is looked for (checkpoints run every
# minute; an event committed late is sealed by a later round that rescans RESCAN back).
_SEARCH = chain.RESCAN + timedelta(hours=1)


@dataclass
class Built:
    """A finished dossier: the ZIP in a temporary file (rewound), and what the ledger event says."""

    file: IO[bytes]
    filename: str
    manifest_sha256: str
    facts: dict[str, Any]


def _ts(moment: datetime) -> str:
    # Exactly ledger.chain._ts: the hash covers this text.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _local(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"


def _who(user: Any) -> str:
    return user.get_username() if user is not None else ""


def _money(amount: Any) -> str:
    return "" if amount is None else f"{amount}"


def _safe_name(name: str) -> str:
    name = re.sub(r"[\\/\x00-\x1f:*?\"<>|]", "_", name or "file").strip(" .") or "file"
    return name[-100:]


def sealing_checkpoint(complaint: Complaint, seal: bool) -> tuple[Checkpoint | None, int]:
    """The checkpoint that seals the case's latest sealed head, and that head's seq (0: none). With
    `seal`, a head that no checkpoint covers yet is sealed first (what the scheduler does every minute,
    without the settle time: an operator's "seal now")."""
    head = LedgerEvent.objects.filter(complaint=complaint).order_by("-seq").values_list("seq", flat=True).first() or 0
    sealed = SealedHead.objects.filter(complaint=complaint).values_list("seq", flat=True).first() or 0
    if seal and sealed < head:
        chain.seal(settle=timedelta(0))
        sealed = SealedHead.objects.filter(complaint=complaint).values_list("seq", flat=True).first() or 0
    if not sealed:
        return None, 0
    event = LedgerEvent.objects.get(complaint=complaint, seq=sealed)
    wanted = [complaint.pk, sealed, event.hash]
    candidates = Checkpoint.objects.filter(
        created_at__gte=event.created_at - timedelta(seconds=1), created_at__lte=event.created_at + _SEARCH
    ).order_by("seq")
    for cp in candidates.iterator(chunk_size=100):
        if wanted in cp.heads:
            return cp, sealed
    for cp in (
        Checkpoint.objects.filter(created_at__gt=event.created_at + _SEARCH).order_by("seq").iterator(chunk_size=100)
    ):
        if wanted in cp.heads:  # pragma: no cover - a checkpoint more than an hour late
            return cp, sealed
    return None, 0


def _event_json(event: LedgerEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "action": event.action,
        "actor": event.actor,
        "actor_label": event.actor_label,
        "changes": event.changes,
        "data": event.data,
        "at": _ts(event.created_at),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def _checkpoint_json(cp: Checkpoint | None, sealed_seq: int) -> dict[str, Any]:
    if cp is None:
        return {
            "checkpoint": None,
            "sealed_seq": 0,
            "note": "No checkpoint seals this case's chain yet; export again after the next checkpoint.",
            "digest_at_export": chain.digest(),
        }
    return {
        "checkpoint": {
            "seq": cp.seq,
            "at": _ts(cp.created_at),
            "last_event_id": cp.last_event_id,
            "heads": cp.heads,
            "prev_hash": cp.prev_hash,
            "hash": cp.hash,
        },
        "sealed_seq": sealed_seq,
        "note": "The checkpoint lists [case id, head seq, head hash] for every case chain that moved since the "
        "previous checkpoint; its hash chains to the previous checkpoint's (prev_hash).",
        "digest_at_export": chain.digest(),
    }


def action_labels() -> dict[str, str]:
    """The timeline's labels: the lifecycle's, the case page's and every app's own."""
    from complaints.selectors import _consumer_labels
    from complaints.web_actions import LABELS

    names: dict[str, str] = {k: str(v) for k, v in _consumer_labels().items()}
    names.update({k: str(v) for k, v in LABELS.items()})
    names.update(
        {
            "receive": _("登记"),
            "sla_warning": _("时限预警"),
            "sla_breach": _("超时升级"),
            "add_evidence": _("上传证据"),
            "view_evidence": _("查看证据"),
            "download_evidence": _("下载证据"),
            "delete_evidence": _("删除证据文件"),
            "set_legal_hold": _("法律保全"),
            "share": _("共享"),
        }
    )
    for app in django_apps.get_app_configs():
        names.update({k: str(v) for k, v in getattr(app, "timeline_labels", {}).items()})
    return names


def _clear(value: Any) -> str:
    """A ledger value in clear: personal values decrypted, '（已删除）' once the person was erased."""
    plain = decrypt(value)
    if plain is SHREDDED:
        return _("（个人信息已删除）")
    return "" if plain is None else str(plain)


def _pdf(
    complaint: Complaint,
    events: list[LedgerEvent],
    evidence_rows: list[dict[str, Any]],
    proceedings: list[ExternalProceeding],
    checklists: list[CrisisChecklist],
    proof: dict[str, Any],
    exported_by: str,
    now: datetime,
) -> bytes:
    from core.pdf import Spacer, para, render, styles, table

    s = styles()
    c = complaint
    story: list[Any] = [
        para(_("投诉案卷"), s["title"]),
        para(f"{c.tracking_no}", s["title"]),
        para(_("导出时间：%(at)s · 导出人：%(who)s") % {"at": _local(now), "who": exported_by}, s["small"]),
        para(_("本案卷可离线核验：python3 verify.py 案卷.zip（见 README.txt）。"), s["small"]),
        Spacer(1, 6),
        para(_("一、案件信息"), s["heading"]),
    ]
    flags = "、".join(str(RiskFlag(f).label) for f in c.risk_flags if f in RiskFlag.values) or "—"
    facts = [
        [_("投诉编号"), c.tracking_no],
        [_("状态"), str(Status(c.status).label)],
        [_("渠道"), str(Channel(c.channel).label) if c.channel in Channel.values else c.channel],
        [_("登记时间"), _local(c.received_at)],
        [
            _("投诉人"),
            _("匿名") if c.anonymous else f"{c.complainant_name} {c.complainant_phone} {c.complainant_email}",
        ],
        [_("地址"), c.complainant_address or "—"],
        [_("被投诉单位"), c.org_unit.name if c.org_unit_id else "—"],
        [
            _("产品/服务"),
            " ".join(x for x in (c.product_name, c.product_model, c.product_sku, c.product_batch) if x) or "—",
        ],
        [_("订单号"), c.order_no or "—"],
        [_("支付金额"), f"{c.amount_paid}" if c.amount_paid is not None else "—"],
        [_("标题"), c.title or "—"],
        [_("投诉内容"), c.description],
        [_("诉求"), "、".join(c.remedies_requested or []) or "—"],
        [_("索赔金额"), f"{c.amount_claimed}" if c.amount_claimed is not None else "—"],
        [_("分类"), c.category.name if c.category_id else "—"],
        [_("优先级 / 严重程度"), f"{c.priority} / {c.get_severity_display()}"],
        [_("风险标记"), flags],
        [
            _("部门 / 第一责任人"),
            f"{c.department.name if c.department_id else '—'} / {c.owner.get_username() if c.owner_id else '—'}",
        ],
        [_("升级级别"), c.get_escalation_level_display()],
        [_("处理结果"), f"{c.get_outcome_display() or '—'} {c.outcome_note}".strip()],
        [_("书面答复"), c.reply_text or "—"],
        [_("法律保全"), _("是") if c.legal_hold else _("否")],
    ]
    story.append(table([[str(k), v] for k, v in facts], widths=[110, 360]))

    story.append(para(_("二、外部程序"), s["heading"]))
    if not proceedings:
        story.append(para(_("无。"), s["body"]))
    for p in proceedings:
        rows = [
            [_("途径"), p.get_route_display()],
            [_("受理机构"), p.body or "—"],
            [_("案号"), p.reference or "—"],
            [_("期限"), _local(p.due_at)],
            [_("转出"), f"{_local(p.opened_at)} {p.opened_by.get_username() if p.opened_by_id else ''}"],
            [
                _("结果"),
                f"{_local(p.closed_at)} {p.get_decision_display()} {_money(p.amount)} {p.outcome_text}"
                if p.closed_at
                else _("进行中"),
            ],
        ]
        for d in p.documents.all():
            rows.append(
                [
                    f"{d.get_direction_display()} {d.exchanged_on:%Y-%m-%d}",
                    f"{d.description} · {d.evidence.filename} · SHA-256 {d.evidence.sha256}",
                ]
            )
        story.append(table([[str(k), v] for k, v in rows], widths=[110, 360]))
        story.append(Spacer(1, 4))

    if checklists:
        story.append(para(_("三、危机处理"), s["heading"]))
        for cl in checklists:
            done = _("已完成 %(at)s") % {"at": _local(cl.completed_at)} if cl.completed_at else _("未完成")
            rows = [
                [_("开启"), f"{_local(cl.opened_at)} · {done}"],
                [
                    _("事实核实"),
                    f"{_local(cl.facts_verified_at)} {_who(cl.facts_verified_by)} {cl.facts_note}",
                ],
                [_("对外声明"), cl.statement_text or "—"],
                [
                    _("声明批准"),
                    f"{_local(cl.statement_approved_at)} {_who(cl.statement_approved_by)}",
                ],
                [_("媒体联络"), f"{cl.media_contacts.count()} · {_local(cl.media_confirmed_at)}"],
            ]
            for m in cl.media_contacts.all():
                rows.append([_local(m.contacted_at), f"{m.outlet} {m.person}：{m.summary}"])
            story.append(table([[str(k), v] for k, v in rows], widths=[110, 360]))

    story.append(para(_("四、时间线（账本事件）"), s["heading"]))
    labels = action_labels()
    rows = [[_("序号"), _("时间"), _("事件"), _("操作人"), _("说明")]]
    for e in events:
        notes = [_clear(e.data[k]) for k in ("note", "public_note", "reason", "filename") if k in e.data]
        status = e.changes.get("status")
        if status:
            notes.insert(0, f"{status[0] or '—'} → {status[1]}")
        rows.append(
            [
                str(e.seq),
                _local(e.created_at),
                labels.get(e.action, e.action),
                e.actor_label,
                "；".join(n for n in notes if n),
            ]
        )
    story.append(table(rows, widths=[30, 80, 100, 60, 200], style=s["small"]))

    story.append(para(_("五、证据清单（SHA-256）"), s["heading"]))
    if not evidence_rows:
        story.append(para(_("无。"), s["body"]))
    status_labels = {"included": _("已附文件"), "deleted": _("文件已按保存期限删除"), "missing": _("文件缺失")}
    for n, item in enumerate(evidence_rows, start=1):
        story.append(
            para(
                f"{n}. {item['filename']} · {item['kind_label']} · {item['size']} B"
                f" · {_local(datetime.fromisoformat(item['created_at']))}"
                f" · {status_labels[item['status']]}",
                s["body"],
            )
        )
        story.append(para(f"SHA-256 {item['sha256']}", s["mono"]))

    story.append(para(_("六、账本证明"), s["heading"]))
    head = events[-1] if events else None
    cp = proof.get("checkpoint")
    lines = [
        _("本案账本事件 %(n)d 条，链首事件 %(seq)s。") % {"n": len(events), "seq": head.seq if head else "—"},
        f"head SHA-256 {head.hash if head else '—'}",
    ]
    if cp:
        lines += [
            _("封存检查点：第 %(seq)d 号，%(at)s，封存本案第 %(sealed)d 号事件。")
            % {"seq": cp["seq"], "at": _local(datetime.fromisoformat(cp["at"])), "sealed": proof["sealed_seq"]},
            f"checkpoint SHA-256 {cp['hash']}",
        ]
    else:
        lines.append(_("尚无检查点封存本案账本链首；链本身仍可核验。"))
    digest = proof.get("digest_at_export") or {}
    lines.append(
        _("导出时检查点链首（每日摘要）：第 %(seq)s 号 %(hash)s")
        % {"seq": digest.get("seq"), "hash": digest.get("hash")}
    )
    for line in lines:
        story.append(para(line, s["mono"] if "SHA-256" in line else s["body"]))
    return render(story, title=f"{c.tracking_no} " + _("投诉案卷"))


README = """ComplaintDesk 投诉案卷 / case dossier {tracking_no}

离线核验（只需 Python 3，无需联网或安装任何软件包）：
Offline verification (Python 3 only; no network, no packages):

    python3 verify.py {zip_name}
    # 或在解压后的文件夹内 / or inside the unzipped folder:
    python3 verify.py

也可以只核对文件哈希 / or check the file hashes alone:  sha256sum -c SHA256SUMS

verify.py 重新计算每个文件的 SHA-256、本案账本哈希链中每个事件的哈希和链接，以及封存链首的检查点；
任何一项不符即指出第一处被改动的位置，并以状态码 1 退出。
verify.py recomputes every file's SHA-256, every ledger event's hash and link, and the checkpoint that
seals the chain's head; it names the first thing that does not match and exits with status 1.

To tie the checkpoint to the ledger digest kept outside the system:
    python3 verify.py {zip_name} --digest '{{"seq": N, "hash": "..."}}'
"""


def build(complaint: Complaint, *, actor: Actor, seal: bool = True, record: bool = True) -> Built:
    """Build the dossier (checked: staff_may 'export_dossier'); the export is recorded in the ledger."""
    check_may(complaint, actor, "export_dossier")
    complaint = Complaint.objects.select_related("category", "department", "owner", "org_unit").get(pk=complaint.pk)
    now = timezone.now()
    cp, sealed_seq = sealing_checkpoint(complaint, seal)
    events = list(LedgerEvent.objects.filter(complaint=complaint).order_by("seq"))
    proof = _checkpoint_json(cp, sealed_seq)
    proceedings = list(
        ExternalProceeding.objects.filter(complaint=complaint)
        .select_related("opened_by")
        .prefetch_related("documents__evidence")
    )
    checklists = list(CrisisChecklist.objects.filter(complaint=complaint).prefetch_related("media_contacts"))

    spool = tempfile.SpooledTemporaryFile(max_size=32 * _CHUNK)
    hashes: dict[str, dict[str, Any]] = {}
    evidence_rows: list[dict[str, Any]] = []
    with zipfile_writer(spool) as zf:

        def put(name: str, data: bytes) -> None:
            zf.writestr(name, data)
            hashes[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}

        for item in Evidence.objects.filter(complaint=complaint).order_by("created_at", "id"):
            row = {
                "id": item.pk,
                "sha256": item.sha256,
                "size": item.size,
                "filename": item.filename,
                "kind": item.kind,
                "kind_label": str(item.get_kind_display()),
                "content_type": item.content_type,
                "created_at": item.created_at.isoformat(),
                "deleted_at": item.deleted_at.isoformat() if item.deleted_at else None,
                "path": None,
            }
            if item.deleted_at is not None:
                row["status"] = "deleted"
            elif not store.exists(item.sha256):
                row["status"] = "missing"
            else:
                row["status"] = "included"
                path = f"evidence/{item.sha256}-{_safe_name(item.filename)}"
                row["path"] = path
                if path not in hashes:
                    hashes[path] = _copy(zf, path, item.sha256)
            evidence_rows.append(row)

        put(
            "evidence.json", _json({"case": complaint.pk, "tracking_no": complaint.tracking_no, "items": evidence_rows})
        )
        put(
            "ledger/events.json",
            _json(
                {"case": complaint.pk, "tracking_no": complaint.tracking_no, "events": [_event_json(e) for e in events]}
            ),
        )
        put("ledger/checkpoint.json", _json(proof))
        put(
            "dossier.pdf",
            _pdf(complaint, events, evidence_rows, proceedings, checklists, proof, actor.label, now),
        )
        zip_name = f"dossier-{complaint.tracking_no}.zip"
        put("README.txt", README.format(tracking_no=complaint.tracking_no, zip_name=zip_name).encode())
        put("verify.py", Path(__file__).with_name("verify.py").read_bytes())
        manifest = _json(
            {
                "format": FORMAT,
                "tracking_no": complaint.tracking_no,
                "case": complaint.pk,
                "generated_at": now.isoformat(),
                "exported_by": actor.label,
                "head_seq": events[-1].seq if events else 0,
                "files": dict(sorted(hashes.items())),
            }
        )
        zf.writestr("manifest.json", manifest)
        zf.writestr("SHA256SUMS", "".join(f"{h['sha256']}  {name}\n" for name, h in sorted(hashes.items())))
    manifest_sha256 = hashlib.sha256(manifest).hexdigest()
    facts = {
        "manifest_sha256": manifest_sha256,
        "head_seq": events[-1].seq if events else 0,
        "sealed_seq": sealed_seq,
        "checkpoint_seq": cp.seq if cp else None,
        "evidence_files": sum(1 for r in evidence_rows if r["status"] == "included"),
    }
    if record:
        actions.record_export(complaint, actor=actor, facts=facts)
    spool.seek(0)
    return Built(file=spool, filename=zip_name, manifest_sha256=manifest_sha256, facts=facts)


def zipfile_writer(target: IO[bytes]) -> Any:
    import zipfile

    return zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED)


def _json(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, indent=1).encode()


def _copy(zf: Any, path: str, sha256: str) -> dict[str, Any]:
    """Stream a stored file into the ZIP, hashing what is actually written."""
    hasher, size = hashlib.sha256(), 0
    with store.open(sha256) as source, zf.open(path, "w") as target:
        for chunk in iter(lambda: source.read(_CHUNK), b""):
            hasher.update(chunk)
            size += len(chunk)
            target.write(chunk)
    return {"sha256": hasher.hexdigest(), "size": size}


def write(built: Built, out: str | Path) -> Path:
    out = Path(out)
    if out.is_dir():
        out = out / built.filename
    with open(out, "wb") as target:
        shutil.copyfileobj(built.file, target)
    built.file.seek(0)
    return out


__all__ = ["Built", "build", "sealing_checkpoint", "write"]
