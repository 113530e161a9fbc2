"""The personal-data check, measured on a corpus of English and Korean texts that support
cases really contain. Each true example holds one kind of personal data; each false
example holds the numbers and addresses that support work is full of and that are not
personal data (times, IP addresses, SMTP codes, case numbers, Message-IDs...)."""

import pytest

from cases.pii import pii_findings, without_expected

TRUE = [
    # phone numbers, Korean
    ("Call the admin on 010-1234-5678.", "phone"),
    ("관리자에게 010-1234-5678로 연락 주세요.", "phone"),
    ("담당자 휴대폰: 01098765432", "phone"),
    ("사무실 번호는 02-3456-7890 입니다.", "phone"),
    ("부산 지사 051-123-4567로 전화 부탁드립니다.", "phone"),
    ("대표번호 1588-1234 로 문의하셨다고 합니다.", "phone"),
    ("연락처 (02) 555 1234", "phone"),
    ("Reach Kim at +82 10 2345 6789 after 3 pm.", "phone"),
    ("국제전화 +82-2-312-3456 로 걸어 주세요.", "phone"),
    ("010.2222.3333 으로 문자 주세요", "phone"),
    ("Her number is 010 4567 8901, she is the IT lead.", "phone"),
    ("김 부장님 번호 031-789-1234", "phone"),
    # phone numbers, international
    ("Call me at (415) 555-2671 if the delay continues.", "phone"),
    ("Our US office: +1 650-253-0000.", "phone"),
    ("UK contact +44 20 7946 0958", "phone"),
    ("Phone: 212-555-4567", "phone"),
    ("You can call +81 3-1234-5678 during Tokyo hours.", "phone"),
    ("The user's mobile is +1 (202) 456-1111.", "phone"),
    ("Please phone John on 650.253.0000 tomorrow.", "phone"),
    ("Contact number: +61 2 9374 4000", "phone"),
    # e-mail addresses
    ("The affected user is alice.kim@acme-corp.com.", "email"),
    ("영향받는 사용자: hong.gildong@acme.co.kr", "email"),
    ("Reply to me at j.smith+support@gmail.com please", "email"),
    ("Forwarding from ceo@globex.example stopped.", "email"),
    ("사용자 김철수(chulsoo.kim@initech.co.kr)가 로그인하지 못합니다.", "email"),
    ("Send the report to it-team@umbrella.example", "email"),
    ("My personal address is minji_park@naver.com", "email"),
    ("bob@example.org cannot receive mail from outside.", "email"),
    ("메일 주소 lee.sy@daum.net 으로 보내 주세요.", "email"),
    ("CC: maria.garcia@contoso.com", "email"),
    ("The user john.doe@sub.domain.example.com was suspended.", "email"),
    ("계정 admin2@startup.io 가 잠겼습니다.", "email"),
    # Korean resident registration numbers
    ("주민등록번호 900101-1234567 입니다.", "rrn"),
    ("RRN 850315-2345678 for the account owner.", "rrn"),
    ("본인 확인용 주민번호: 7712242123456", "rrn"),
    ("외국인등록번호 010203-5123456", "rrn"),
    ("주민번호는 030405-3123456 입니다", "rrn"),
    ("ID number 921130 - 1012345 was entered in the form.", "rrn"),
    ("생년월일과 번호 680712-1456789 를 첨부합니다", "rrn"),
    ("Resident number: 011225-4234567.", "rrn"),
    ("주민등록번호: 991231-2000000", "rrn"),
    ("the owner's RRN is 750505-1111118", "rrn"),
    # payment card numbers
    ("Card 4111 1111 1111 1111 was charged twice.", "card"),
    ("카드번호 5555-5555-5555-4444 로 결제되었습니다.", "card"),
    ("Amex 378282246310005 declined", "card"),
    ("결제 카드: 4012888888881881", "card"),
    ("Visa 4242-4242-4242-4242 exp 12/28", "card"),
    ("The invoice was paid with 6011 1111 1111 1117.", "card"),
    ("신용카드 5105 1051 0510 5100 에서 이중 청구", "card"),
    ("card number 3530111333300000 (JCB)", "card"),
    ("Charged on 4000-0566-5566-5556 yesterday.", "card"),
    ("마스터카드 2223 0031 2200 3222", "card"),
    # mixed and harder
    ("Contact: Kim Minsu, 010-9876-5432, minsu.kim@acme.example", "email"),
    ("전화 010-3333-4444 또는 이메일 hr@acme.example", "email"),
    ("Ring 02 2345 6789 and ask for Jane.", "phone"),
    ("Her cell (010)2345-6789.", "phone"),
    ("The caller left +82 (0)10-1234-5678 as a callback number", "phone"),
    ("Text 1 (800) 275-2273 for Apple.", "phone"),
    ("사용자 연락처는 010 9999 8888 이고 이메일은 없습니다", "phone"),
    ("Fax 02-6000-1234", "phone"),
]

FALSE = [
    "Since 2026-11-24 10:32:11 KST outgoing mail is delayed by two hours.",
    "2026년 11월 24일 오전 9시부터 메일이 지연됩니다.",
    "The sending server is 192.168.10.25 and the relay 10.0.0.1.",
    "SMTP error 550 5.7.26 Unauthenticated email is not accepted.",
    "421-4.7.0 Try again later, closing connection.",
    "Case 40001234 was closed by mistake; please reopen.",
    "Message-ID: <CAF=abc123XYZ@mail.gmail.com>",
    "The Message-ID is <20261124093211.1234.ABCD@mx.acme.example>.",
    "About 1500 users are affected out of 12000.",
    "We moved 3,250,000 messages in the migration.",
    "Error code 0x80070005 when syncing.",
    "Version 2.4.1834.0 of Drive for desktop crashes.",
    "The order number is 2026-1124-0007.",
    "It happens every day between 09:00 and 10:30 (UTC+9).",
    "DKIM selector google._domainkey, key length 2048 bits.",
    "Port 587 with STARTTLS, timeout 30 seconds.",
    "IPv6 address 2001:db8:85a3::8a2e:370:7334 is blocked.",
    "UUID 123e4567-e89b-12d3-a456-426614174000 in the log.",
    "Invoice INV-2026-000123 shows 1,234,567 KRW.",
    "The delay is roughly 7200 seconds per message.",
    "라이선스 250개 중 248개가 사용 중입니다.",
    "조직 단위 /Sales/Seoul 의 사용자 35명이 영향을 받습니다.",
    "오류 코드 403 forbidden, 요청 ID 7f3a9c2e.",
    "Customer ID C01abc2de, domain acme.example.",
    "The SPF record is v=spf1 include:_spf.google.com ~all",
    "Bounce: 552-5.2.2 The recipient's inbox is out of storage space.",
    "Timestamp 1732441931 in epoch seconds.",
    "The file is 104857600 bytes (100 MB).",
    "Retry after 3600 seconds; attempt 3 of 8.",
    "Please check ticket #123456 from last year.",
    "The quota went from 30 GB to 2 TB on 2026-10-01.",
    "We see 99.9% uptime except 2026-11-20 14:00–15:30.",
    "The headers show Received: from mx1.acme.example (10.1.2.3) by 2002:a05:6402:1234.",
    "메일 서버 IP는 203.0.113.45 입니다.",
    "케이스 번호 40000123 의 후속 문의입니다.",
    "Google Workspace Business Standard, 120 seats.",
    "Log line: 2026-11-24T01:02:03.456Z INFO queue=4 size=12345",
    "The password policy needs 12 characters.",
    "Error 0x8004010F in Outlook sync.",
    "Chrome 131.0.6778.86 on Windows 11 23H2.",
    "Build 20261124.1 fails at step 3.",
    "The group has 4,500 members and 12 owners.",
    "약 2시간 30분 지연되었습니다.",
    "매일 오후 6시부터 7시 사이에 발생합니다.",
    "요청 ID: 8d3f2a1b-4c5e-6f70-8192-a3b4c5d6e7f8",
    "사용자 1,234명 중 56명이 영향을 받았습니다.",
    "Message-ID: <abc.def.123456@mail.acme.example> 를 확인해 주세요.",
    "Serial number SN-2026-88421 of the device.",
    "The API returned 429 with Retry-After: 60.",
    "MX priority 1 aspmx.l.google.com, 5 alt1.aspmx.l.google.com.",
    "Rate 20000 rows per second on export.",
    "Our tenant has 3 org units and 7 admin roles.",
    "The certificate expires on 2027-03-15 at 23:59:59.",
    "Drive file ID 1aBcD2eFgH3iJkL4mNoP5qRsT6uVwXyZ.",
    "The CSV has 1,000,000 rows, 11 columns.",
    "지난주 화요일 14:05 에 처음 발생했습니다.",
    "Calendar event at 10:00-11:00 on 2026-12-01.",
    "Chromebook model 2024 serial 5CD1234XYZ.",
    "라우팅 규칙 3번과 7번이 충돌합니다.",
    "Please compare revisions 1024 and 1025 of the document.",
    "The RFC 5321 limit is 256 octets per path.",
    "Ticket amount 12,800 characters maximum per comment.",
]


def test_corpus_recall_and_precision():
    assert len(TRUE) >= 60 and len(FALSE) >= 60
    hits = sum(1 for text, kind in TRUE if kind in pii_findings(text))
    missed = [text for text, kind in TRUE if kind not in pii_findings(text)]
    false_alarms = [text for text in FALSE if pii_findings(text)]
    flagged = sum(1 for text, _kind in TRUE if pii_findings(text)) + len(false_alarms)
    recall = hits / len(TRUE)
    precision = (flagged - len(false_alarms)) / flagged
    print(f"\npersonal-data check: recall {recall:.1%} ({hits}/{len(TRUE)}), precision {precision:.1%}")
    print("missed:", missed)
    print("false alarms:", false_alarms)
    assert recall >= 0.95
    assert precision >= 0.90


@pytest.mark.parametrize(
    "text",
    ["Call the admin on 010-1234-5678.", "관리자 연락처: 010-1234-5678."],
)
def test_a_number_followed_by_a_period_is_found(text):
    assert pii_findings(text) == ["phone"]


def test_the_message_id_a_question_asks_for_is_not_flagged():
    answer = "<CAF1x2y3z4=ABCdef@mail.gmail.com>"
    assert pii_findings(answer) == ["email"] or pii_findings(answer) == []
    assert pii_findings(without_expected(answer, "message_id")) == []
    bare = "CAF1x2y3z4ABCdef5678@mail.gmail.com"
    assert pii_findings(without_expected(bare, "message_id")) == []
    # an ordinary address in that answer still counts
    assert pii_findings(without_expected("alice@acme.example", "message_id")) == ["email"]
