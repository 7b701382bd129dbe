"""Reference peer for the anonymisation tests: pydicom reads the original and the anonymised files.

stdin: JSON {"pairs": [[original, anonymised], ...], "profile_tags": ["00100010", ...], "keep_uid_tags": [...]}
stdout: JSON per pair: identifying values found in the original, leaks found in the output, private
elements left, pixel comparison, and the UIDs of the output.
"""
import json
import re
import sys

import pydicom
from pydicom.encaps import generate_pixel_data_frame

req = json.load(sys.stdin)
profile = set(t.upper() for t in req["profile_tags"])
keep_uid = set(t.upper() for t in req["keep_uid_tags"])
curve_overlay = re.compile(r"^(50|60)[0-1][0-9A-E]")


def tag_hex(elem):
    return "%08X" % int(elem.tag)


def in_profile(t):
    if t in profile:
        return True
    g = int(t[:4], 16)
    return (0x5000 <= g <= 0x601E) and g % 2 == 0 and (g <= 0x501E or g >= 0x6000)


def strings_of(elem):
    if elem.VR == "SQ":
        return []
    v = elem.value
    if v is None:
        return []
    vals = list(v) if isinstance(v, (list, pydicom.multival.MultiValue)) else [v]
    out = []
    for x in vals:
        if isinstance(x, bytes):
            try:
                s = x.decode("latin-1").strip("\x00 ")
            except Exception:
                continue
            if s.isprintable():
                out.append(s)
        else:
            out.append(str(x).strip())
    return [s for s in out if s]


def walk(ds, fn, inside=False):
    for elem in ds:
        t = tag_hex(elem)
        fn(elem, t, inside)
        if elem.VR == "SQ" and elem.value is not None:
            for item in elem.value:
                walk(item, fn, inside or in_profile(t) or (int(t[:4], 16) % 2 == 1))


def identifying(orig):
    values = set()
    uids = set()

    def fn(elem, t, inside):
        private = int(t[:4], 16) % 2 == 1
        if elem.VR == "UI":
            for s in strings_of(elem):
                if not s.startswith("1.2.840.10008.") and t not in keep_uid:
                    uids.add(s)
            return
        # Private creators (gggg,0010-00FF) name a vendor, not a patient; the elements themselves are checked.
        creator = private and 0x10 <= int(t[4:], 16) <= 0xFF
        # Coded vocabulary (CS values, code value / scheme / meaning) is not identity.
        vocabulary = elem.VR == "CS" or t in ("00080100", "00080102", "00080103", "00080104")
        if (in_profile(t) or inside or private) and not creator and not vocabulary:
            for s in strings_of(elem):
                # pieces of a person name are identifying on their own
                for part in [s] + (s.split("^") if elem.VR == "PN" else []):
                    part = part.strip()
                    if len(part) >= 3 and not re.fullmatch(r"[0-9.+\- ]+", part) or re.fullmatch(r"\d{6,}", part or ""):
                        values.add(part)

    walk(orig, fn)
    for elem in orig.file_meta:
        if tag_hex(elem) == "00020003":
            uids.update(strings_of(elem))
    return values, uids


def pixels(ds):
    if "PixelData" not in ds:
        return None
    if ds.file_meta.TransferSyntaxUID.is_compressed:
        n = int(ds.get("NumberOfFrames", 1) or 1)
        return [f.hex() for f in generate_pixel_data_frame(ds.PixelData, n)]
    return [bytes(ds.PixelData).hex()]


results = []
for orig_path, out_path in req["pairs"]:
    orig = pydicom.dcmread(orig_path, force=True)
    out = pydicom.dcmread(out_path)  # not forced: the output must be a proper Part 10 file
    values, uids = identifying(orig)
    leaks = []
    private_left = []
    out_uids = {}
    all_strings = []

    def fn(elem, t, inside):
        if int(t[:4], 16) % 2 == 1:
            private_left.append(t)
        for s in strings_of(elem):
            all_strings.append((t, s))
            if elem.VR == "UI":
                out_uids.setdefault(t, []).append(s)

    walk(out, fn)
    for elem in out.file_meta:
        for s in strings_of(elem):
            all_strings.append((tag_hex(elem), s))
    # Attributes the profile keeps (not in the table) may contain an identifying string by accident,
    # e.g. Manufacturer "TOSHIBA_MEC" vs Institution Name "TOSHIBA": not a leak when the output value
    # is exactly the original value of that same kept attribute.
    kept_orig = {}
    for elem in orig:
        t = tag_hex(elem)
        if not in_profile(t) and int(t[:4], 16) % 2 == 0:
            kept_orig[t] = strings_of(elem)
    kept_collisions = []
    for t, s in all_strings:
        for v in values:
            # short values (< 6 characters, e.g. "ECG", "CT1") only count as the whole value, longer ones anywhere
            if (v in s) if len(v) >= 6 else (v == s or v in s.split("^")):
                if not in_profile(t) and s in kept_orig.get(t, []):
                    kept_collisions.append({"tag": t, "value": v, "in": s})
                else:
                    leaks.append({"tag": t, "value": v, "in": s})
        if s in uids:
            leaks.append({"tag": t, "value": s, "in": "uid"})
    po, pa = pixels(orig), pixels(out)
    results.append({
        "original": orig_path,
        "identifying": sorted(values),
        "uids": sorted(uids),
        "leaks": leaks,
        "keptCollisions": kept_collisions,
        "privateLeft": private_left,
        "pixelsEqual": po == pa,
        "hasPixels": po is not None,
        "outUids": out_uids,
        "mediaStorageSopInstanceUid": str(out.file_meta.MediaStorageSOPInstanceUID),
        "patientIdentityRemoved": str(out.get("PatientIdentityRemoved", "")),
        "deidCode": [str(i.CodeValue) for i in out.get("DeidentificationMethodCodeSequence", [])],
        "elementsOut": len(all_strings),
    })
print(json.dumps(results))
