"""cfn-lint with the provider's rules (cfn-lint-rules/, `--append-rules`): the
examples lint clean, and typos and bad values in Custom:: resources are
errors naming the property. `make lint-templates` runs this file."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CFN_LINT = shutil.which("cfn-lint", path=str(Path(sys.executable).parent)) or "cfn-lint"
HEADER = """\
Parameters:
  ServiceToken: {Type: String}
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: chatbot.amazonaws.com}
            Action: sts:AssumeRole
"""
CHANNEL = HEADER + """\
  Alerts:
    Type: Custom::ChatbotSlackChannel
    Properties:
      ServiceToken: !Ref ServiceToken
      ConfigurationName: alerts
      SlackWorkspaceId: T0CHATOPS1
      SlackChannelId: C0ALERTS1
      IamRoleArn: !GetAtt Role.Arn
      UserRoleRequired: No
      LoggingLevel: ERROR
Outputs:
  Arn:
    Value: !GetAtt Alerts.Arn
"""


def lint(tmp_path: Path, text: str) -> tuple[int, list[dict]]:
    path = tmp_path / "template.yaml"
    path.write_text(text)
    result = subprocess.run(
        [CFN_LINT, "--format", "json", "--append-rules", str(ROOT / "cfn-lint-rules"), "--", str(path)],
        capture_output=True, text=True, check=False,
    )
    return result.returncode, json.loads(result.stdout or "[]")


def ours(findings: list[dict]) -> list[tuple[str, str, int]]:
    return [
        (f["Rule"]["Id"], f["Message"], f["Location"]["Start"]["LineNumber"])
        for f in findings if f["Rule"]["Id"].startswith("E91")
    ]


def test_the_examples_and_templates_lint_clean():
    templates = sorted(str(p) for p in [*ROOT.glob("examples/*.yaml"), *ROOT.glob("cfn-templates/*.yaml")])
    result = subprocess.run(
        [CFN_LINT, "--append-rules", str(ROOT / "cfn-lint-rules"), "--", *templates],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_valid_channel_is_clean(tmp_path):
    code, findings = lint(tmp_path, CHANNEL)
    assert (code, findings) == (0, [])


@pytest.mark.parametrize(
    ("change", "rule", "expected"),
    [
        (("SlackChannelId: C0ALERTS1", "SlackChanelId: C0ALERTS1"), "E9101", "SlackChanelId is not a property of this type; did you mean SlackChannelId?"),
        (("SlackChannelId: C0ALERTS1", "SlackChanelId: C0ALERTS1"), "E9101", "SlackChannelId is required"),
        (("LoggingLevel: ERROR", "LoggingLevel: DEBUG"), "E9101", "'DEBUG' is not one of ERROR, INFO, NONE"),
        (("UserRoleRequired: No", "UserRoleRequired: maybe"), "E9101", "'maybe' is not a boolean"),
        (("ConfigurationName: alerts", "ConfigurationName: has spaces"), "E9101", "'has spaces' does not match"),
        (("      ServiceToken: !Ref ServiceToken\n", ""), "E9101", "ServiceToken is required"),
        (("!GetAtt Alerts.Arn", "!GetAtt Alerts.Bogus"), "E9102", "has no attribute 'Bogus'; Fn::GetAtt can read Arn, ConfigurationName"),
        (("!GetAtt Alerts.Arn", "!Sub '${Alerts.Nope}'"), "E9102", "has no attribute 'Nope'"),
    ],
)
def test_typos_and_bad_values_are_errors(tmp_path, change, rule, expected):
    old, new = change
    assert old in CHANNEL
    code, findings = lint(tmp_path, CHANNEL.replace(old, new))
    assert code != 0
    messages = [(r, m) for r, m, _ in ours(findings)]
    assert any(r == rule and expected in m for r, m in messages), messages


def test_support_app_values_follow_the_native_types(tmp_path):
    template = HEADER + """\
  Workspace:
    Type: Custom::SupportAppSlackWorkspace
    Properties:
      ServiceToken: !Ref ServiceToken
      TeamId: T0CHATOPS1
      VersionId: v2
  Cases:
    Type: Custom::SupportAppSlackChannel
    Properties:
      ServiceToken: !Ref ServiceToken
      TeamId: !Ref Workspace
      ChannelId: C0CASES1
      ChannelRoleArn: !GetAtt Role.Arn
      NotifyOnCaseSeverity: critical
"""
    code, findings = lint(tmp_path, template)
    assert code != 0
    messages = [m for _, m, _ in ours(findings)]
    assert any("VersionId: 'v2' does not match ^[0-9]+$" in m for m in messages), messages
    assert any("'critical' is not one of none, all, high" in m for m in messages), messages
    assert len(messages) == 2, messages


def test_every_type_of_the_provider_is_known_to_the_rules():
    sys.path.insert(0, str(ROOT / "cfn-lint-rules"))
    try:
        import ChatOpsTypes
    finally:
        sys.path.pop(0)
    files = sorted(p.stem for p in (ROOT / "schemas").glob("*.json"))
    assert sorted(ChatOpsTypes.SCHEMAS) == files
    assert all(schema["attributes"] for schema in ChatOpsTypes.SCHEMAS.values())
