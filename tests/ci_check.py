#!/usr/bin/env python3
"""Checks of stutterfuzz's CI outputs for tests/it/ci.sh (stdlib, plus
jsonschema for SARIF and PyYAML for the example workflows).

usage: ci_check.py sarif FILE SCHEMA        validate; print "results=N"
       ci_check.py junit FILE               print "tests=N failures=N"
       ci_check.py report FILE              print structure figures
       ci_check.py yaml FILE...             parse each file
       ci_check.py annotations FILE         check workflow command lines
Exits 1 with a reason when a check fails.
"""
import html.parser
import json
import re
import sys
import xml.etree.ElementTree as ET


def die(why):
    print(why)
    sys.exit(1)


def sarif(path, schema_path):
    import jsonschema
    with open(schema_path) as f:
        schema = json.load(f)
    with open(path) as f:
        log = json.load(f)
    errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(log),
                    key=lambda e: list(e.path))
    if errors:
        die("SARIF invalid: %s at %s" % (errors[0].message,
                                         list(errors[0].path)))
    # GitHub code scanning's documented subset: a tool name, rule ids,
    # a message and one location per result.
    run = log["runs"][0]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    for r in run["results"]:
        if r["ruleId"] not in rules or not r["message"]["text"]:
            die("result without a known rule or message: %r" % r)
        if len(r["locations"]) != 1:
            die("result without exactly one location: %r" % r)
        uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        if not uri or " " in uri:
            die("bad artifact uri %r" % uri)
        if "Reproduce: " not in r["message"]["text"]:
            die("message without a reproduce command: %r" % r["message"])
    print("results=%d rules=%d" % (len(run["results"]), len(rules)))


def junit(path):
    root = ET.parse(path).getroot()
    suites = root.findall("testsuite")
    if len(suites) != 1:
        die("%d test suites, wanted 1" % len(suites))
    s = suites[0]
    cases = s.findall("testcase")
    fails = [c for c in cases if c.find("failure") is not None]
    if int(s.get("failures")) != len(fails):
        die("failures=%s but %d failing test cases" % (s.get("failures"),
                                                       len(fails)))
    props = {p.get("name"): p.get("value")
             for p in s.find("properties").findall("property")}
    for want in ("seed", "frags/s", "fidelity", "exit_code"):
        if want not in props and not (want == "seed" and "runs" in props):
            die("no property %s" % want)
    text = "".join(f.find("failure").text or "" for f in fails)
    print("tests=%d failures=%d reproduce=%d" % (
        len(cases), len(fails), text.count("reproduce: stutterfuzz")))


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.svg = 0
        self.plots = 0
        self.findings = 0
        self.blobs = 0
        self.scripts = 0
        self.urls = []
        self.codes = []
        self.in_code = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg":
            self.svg += 1
            if "plot" in (a.get("class") or "").split():
                self.plots += 1
        if tag == "tr" and "finding" in (a.get("class") or "").split():
            self.findings += 1
        if tag == "tr" and "blob" in (a.get("class") or "").split():
            self.blobs += 1
        if tag in ("script", "link", "iframe", "img", "object", "embed"):
            self.scripts += 1
        for k, v in attrs:
            if k in ("src", "href", "xlink:href", "action") or (
                    v and re.search(r"(https?:|//|url\()", v)):
                self.urls.append((tag, k, v))
        if tag == "code":
            self.in_code = True
            self.codes.append("")

    def handle_endtag(self, tag):
        if tag == "code":
            self.in_code = False

    def handle_data(self, data):
        if self.in_code:
            self.codes[-1] += data


def report(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    p = Page()
    p.feed(text)
    if p.scripts or p.urls:
        die("external or active content: %d tags, urls %r" % (p.scripts,
                                                              p.urls[:3]))
    if re.search(r"https?://", text):
        die("a URL in the page")
    print("plots=%d findings=%d blobs=%d reproduce=%d" % (
        p.plots, p.findings, p.blobs,
        sum(1 for c in p.codes if c.startswith("stutterfuzz replay "))))


def yaml_files(paths):
    import yaml
    for path in paths:
        with open(path) as f:
            docs = list(yaml.safe_load_all(f))
        if not docs or docs[0] is None:
            die("%s: empty" % path)
    print("parsed=%d" % len(paths))


def annotations(path):
    n = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.startswith("::"):
                continue
            m = re.match(r"^::(error|warning|notice) ([^:]*)::(.*)$", line)
            if not m:
                die("not a workflow command: %r" % line)
            props = dict(kv.split("=", 1) for kv in m.group(2).split(","))
            if "title" not in props:
                die("no title: %r" % line)
            for v in props.values():
                if re.search(r"[:,\r\n]|%(?![0-9A-F]{2})", v):
                    die("property not escaped: %r" % v)
            if re.search(r"%(?![0-9A-F]{2})", m.group(3)):
                die("message not escaped: %r" % m.group(3))
            n += m.group(1) != "notice"
    print("annotations=%d" % n)


def main(argv):
    if len(argv) < 3:
        die(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "sarif":
        sarif(args[0], args[1])
    elif cmd == "junit":
        junit(args[0])
    elif cmd == "report":
        report(args[0])
    elif cmd == "yaml":
        yaml_files(args)
    elif cmd == "annotations":
        annotations(args[0])
    else:
        die(__doc__)


if __name__ == "__main__":
    main(sys.argv)
