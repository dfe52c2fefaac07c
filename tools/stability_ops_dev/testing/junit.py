"""A structural check of JUnit XML as the Jenkins and GitLab parsers read it (shared by the health tests)."""

from __future__ import annotations

import xml.etree.ElementTree as ET


def junit_problems(xml: str) -> tuple[ET.Element, list[str]]:
    """Parse JUnit XML with a real parser and check the structure the Jenkins and GitLab JUnit schemas require:
    testsuites > testsuite(name, tests, failures, errors, time) > testcase(name, classname, time) >
    failure(message) | skipped | system-out, with counts that match and no empty test suite."""
    root = ET.fromstring(xml)  # noqa: S314 - our own output, not untrusted input
    problems: list[str] = []

    def number(element: ET.Element, key: str, kind: type = int) -> float:
        try:
            return kind(element.attrib[key])
        except (KeyError, ValueError):
            problems.append(f"<{element.tag} {element.attrib}> lacks a numeric {key!r}")
            return 0

    if root.tag != "testsuites":
        problems.append(f"root is <{root.tag}>")
    for suite in root:
        if suite.tag != "testsuite" or not suite.attrib.get("name"):
            problems.append(f"<{suite.tag} {suite.attrib}> is not a named testsuite")
            continue
        cases = list(suite)
        if not cases:
            problems.append(f"test suite {suite.attrib['name']!r} is empty")
        if number(suite, "tests") != len(cases):
            problems.append(f"{suite.attrib['name']}: tests={suite.attrib.get('tests')} for {len(cases)} cases")
        failing = sum(1 for case in cases if case.find("failure") is not None)
        if number(suite, "failures") != failing:
            problems.append(f"{suite.attrib['name']}: failures={suite.attrib.get('failures')} for {failing}")
        number(suite, "errors")
        number(suite, "time", float)
        for case in cases:
            if case.tag != "testcase" or not case.attrib.get("name") or not case.attrib.get("classname"):
                problems.append(f"<{case.tag} {case.attrib}> is not a testcase with name and classname")
            number(case, "time", float)
            for child in case:
                if child.tag not in ("failure", "skipped", "system-out"):
                    problems.append(f"unexpected <{child.tag}> in {case.attrib}")
                if child.tag == "failure" and not child.attrib.get("message"):
                    problems.append(f"failure without a message in {case.attrib}")
    tests = sum(len(list(suite)) for suite in root)
    if number(root, "tests") != tests:
        problems.append(f"testsuites tests={root.attrib.get('tests')} for {tests} cases")
    if number(root, "failures") != sum(1 for case in root.iter("testcase") if case.find("failure") is not None):
        problems.append("testsuites failures do not add up")
    return root, problems
