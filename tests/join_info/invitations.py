"""Real-looking invitations per meeting service (plain text; the tests derive HTML forms).

Each :class:`Invite` holds what a calendar event's Location and description would carry
and what the detector must report. Meeting ids, passcodes and tenants are made up.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Invite:
    """One invitation and the expected join result."""

    name: str
    service: str
    """Table key of the service the invitation belongs to."""
    body: str
    url: str | None
    provider: str
    dial: str | None = None
    location: str = ""
    source: str = "body"
    is_html: bool = False
    """The body is already HTML (an Outlook invitation): no HTML variants are derived."""


WEBEX_SCHEDULED = """Jane Doe is inviting you to a scheduled Webex meeting.

When it's time, join the Webex meeting here.

Meeting number (access code): 2634 123 4567
Meeting password: Ab12Cd34 (22123234 from phones and video systems)

Join meeting https://acme.webex.com/acme/j.php?MTID=m1234567890abcdef1234567890abcdef

Join by phone
+1-415-655-0001 US Toll
Global call-in numbers https://acme.webex.com/acme/globalcallin.php?MTID=m0987aa

Join from a video system or application
Dial 26341234567@acme.webex.com
You can also dial 173.243.2.68 and enter your meeting number.

Join using Microsoft Lync or Microsoft Skype for Business
Dial 26341234567.acme@lync.webex.com

Need help? Go to https://help.webex.com
"""

WEBEX_PERSONAL_ROOM = """Join my Webex Personal Room meeting:
https://acme.webex.com/meet/jdoe

Meeting number: 123 456 789
Join by video system: jdoe@acme.webex.com
"""

WEBEX_NO_SIP = """Meeting number: 2551 987 6543
Join: https://globex.webex.com/globex/j.php?MTID=mabcdef0123456789abcdef0123456789
"""

ZOOM = """Jane Doe is inviting you to a scheduled Zoom meeting.

Topic: Weekly sync
Time: Mar 3, 2026 10:00 AM Pacific Time (US and Canada)

Join Zoom Meeting
https://us02web.zoom.us/j/85512345678?pwd=ZXhhbXBsZVBhc3N3b3Jk.1

Meeting ID: 855 1234 5678
Passcode: 482913

---

One tap mobile
+16469313860,,85512345678#,,,,*482913# US

Join by SIP
• 85512345678@zoomcrc.com

Join by H.323
• 144.195.19.161 (US West)
Meeting ID: 855 1234 5678
Passcode: 482913

Join instructions
https://us02web.zoom.us/meetings/85512345678/invitations?signature=abc
"""

ZOOM_VANITY = """Join Zoom Meeting
https://acme.zoom.us/my/jane.doe?pwd=QWERTY

Meeting ID: 987 654 3210
Passcode: 777111
"""

ZOOM_WEBINAR = """Please click the link below to join the webinar:
https://acme.zoom.us/w/98765432101?tk=AbCdEf.DQIAAAA&pwd=xyz
Passcode: 3141
Or an H.323/SIP room system:
    98765432101@zoomcrc.com
"""

ZOOMGOV = """Join ZoomGov Meeting
https://agency.zoomgov.com/j/1601234567?pwd=Zm9vYmFy

Meeting ID: 160 123 4567
Passcode: 246810
Join by SIP
1601234567@sip.zoomgov.com
"""

TEAMS_VTC = """________________________________________________________________________________
Microsoft Teams meeting
Join on your computer, mobile app or room device
Click here to join the meeting<https://teams.microsoft.com/l/meetup-join/19%3ameeting_NjQ3ZmE5OTMtYjk4Ni00ZGI4LWE2NjQtYzE0ZGEzNDQ1MWQ3%40thread.v2/0?context=%7b%22Tid%22%3a%2272f988bf%22%2c%22Oid%22%3a%22d8c9f5e4%22%7d>
Meeting ID: 245 896 123 456
Passcode: x7KmQp
Download Teams<https://www.microsoft.com/en-us/microsoft-teams/download-app> | Join on the web<https://www.microsoft.com/microsoft-teams/join-a-meeting>
Join with a video conferencing device
acme@t.plcm.vc
VTC Conference ID: 0123456789
Alternate VTC instructions<https://dialin.plcm.vc/teams/?key=acme&conf=0123456789>
Or call in (audio only)
+1 323-555-0100,,123456789#   United States, Los Angeles
Phone Conference ID: 123 456 789#
Find a local number<https://dialin.teams.microsoft.com/abc?id=123456789> | Reset PIN<https://mysettings.lync.com/pstnconferencing>
Learn More<https://aka.ms/JoinTeamsMeeting> | Meeting options<https://teams.microsoft.com/meetingOptions/?organizerId=d8c9&tenantId=72f9&threadId=19_meeting&messageId=0&language=en-US>
________________________________________________________________________________
"""

TEAMS_CISCO_VIMT = """Microsoft Teams meeting
Join on your computer, mobile app or room device
Click here to join the meeting <https://teams.microsoft.com/meet/2345678901234?p=AbCdEfGhIj>
Meeting ID: 234 567 890 123 4
Passcode: AbCdEf
Join with a video conferencing device
acme@m.webex.com
Video ID: 113 922 488 9
More info <https://www.webex.com/msteams?confid=1139224889&tenantkey=acme&domain=m.webex.com>
For organizers: Meeting options <https://teams.microsoft.com/meetingOptions/?organizerId=1>
"""

TEAMS_LIVE = """Microsoft Teams Need help?
Join the meeting now https://teams.live.com/meet/9876543210987?p=xYz123
Meeting ID: 987 654 321 098 7
Passcode: xYz123
"""

GOTO = """Please join my meeting from your computer, tablet or smartphone.
https://meet.goto.com/123456789

You can also dial in using your phone.
Access Code: 123-456-789
United States: +1 (571) 317-3122

Join from a video-conferencing room or system.
Meeting ID: 123 456 789
Dial in or type: 67.217.95.2 or inroomlink.goto.com
Or dial directly: 123456789@67.217.95.2 or 67.217.95.2##123456789

Get the app now and be ready when your first meeting starts:
https://meet.goto.com/install
"""

GOTOMEETING_CLASSIC = """Please join my meeting from your computer, tablet or smartphone.
https://global.gotomeeting.com/join/987654321

New to GoToMeeting? Get the app now and be ready when your first meeting starts:
https://global.gotomeeting.com/install/987654321
"""

BLUEJEANS = """To join the Meeting:
https://bluejeans.com/123456789/1234?src=calendarLink

To join via Room System:
Video Conferencing System: bjn.vc -or-199.48.152.152
Meeting ID : 123456789
Participant Passcode: 1234

Want to test your video connection?
https://bluejeans.com/111
"""

CHIME = """Click to join the meeting: https://chime.aws/1234567890
Meeting ID: 1234 56 7890
A headset is recommended. Learn more at https://aws.amazon.com/chime/
"""

JITSI = """Click the following link to join the meeting:
https://meet.jit.si/WeeklyTeamSync

=====

Just want to dial in on your phone?
Dial-in info: https://meet.jit.si/static/dialInInfo.html?room=WeeklyTeamSync
"""

WHEREBY = "Join the Whereby room: https://whereby.com/acme-standup (no account needed)."

SKYPE = "Join Skype call: https://join.skype.com/AbCdEfGh1234"

RINGCENTRAL = """Join RingCentral Video meeting
https://v.ringcentral.com/join/123456789?pw=abcdef
Meeting ID: 123 456 789
Dial-in: +1 650 242 4929
"""

LIFESIZE = """Lifesize meeting: https://call.lifesizecloud.com/1234567
Join from a video system: 1234567@lifesizecloud.com
"""

SLACK = "Huddle in #team-sync: https://app.slack.com/huddle/T01234567/C01234567"

DISCORD = "We hang out in voice: https://discord.gg/AbCdEf"

ZOHO = """Join the meeting: https://meeting.zoho.eu/meeting/join?key=1234567890
Meeting ID: 1234567890
"""

FACETIME = "FaceTime: https://facetime.apple.com/join#v=1&p=AbCdEfGh&k=XyZ"

EIGHT_BY_EIGHT = "Join the video meeting: https://8x8.vc/acme/weekly-sync"

GATHER = "Meet in Gather: https://app.gather.town/app/AbC123/acme?spawnToken=xyz123"

DIALPAD = "Dialpad Meetings room: https://meetings.dialpad.com/room/acme"

TENCENT = """Tencent Meeting: https://meeting.tencent.com/dm/AbCdEf123
#Tencent Meeting ID: 123-456-789
"""

LARK = "Join the Lark meeting: https://vc.larksuite.com/j/123456789"

LIVESTORM = "Join the event here: https://app.livestorm.co/p/0123-abcd/live?s=xyz"

SIP_ONLY = """Join from any video system:
SIP: sip:8881234@vc.globex.example
"""

BARE_SIP = """Video call-in
Dial from your room system: 4455667@video.globex.example
"""

ZOOM_DE = """Jane Doe lädt Sie zu einem geplanten Zoom-Meeting ein.

Zoom-Meeting beitreten
https://us06web.zoom.us/j/81234567890?pwd=YWJjZGVm.1

Meeting-ID: 812 3456 7890
Kenncode: 135790
"""

WEBEX_JA = """Webex ミーティングへの招待

ミーティング番号 (アクセス コード): 2551 234 5678
ミーティング パスワード: Xy12Ab34

ミーティングに参加する https://acme.webex.com/acme/j.php?MTID=m0f1e2d3c4b5a69788796a5b4c3d2e1f0
"""

WEBEX_ZH = """会议号（访问码）：2551 876 5432
加入会议 https://acme.webex.com/acme/j.php?MTID=m99aa88bb77cc66dd55ee44ff33aa22bb
"""

TEAMS_OUTLOOK_HTML = (
    '<html><body><div><span style="font-size:18pt">Microsoft Teams meeting</span></div>'
    '<div><b>Join on your computer, mobile app or room device</b></div>'
    '<div><a href="https://nam12.safelinks.protection.outlook.com/ap/t-59584e83/?url=https%3A'
    '%2F%2Fteams.microsoft.com%2Fl%2Fmeetup-join%2F19%253ameeting_ZGQ1%2540thread.v2%2F0%3F'
    'context%3D%257b%2522Tid%2522%253a%2522abc%2522%257d&amp;data=05%7C02%7C%7Cabc&amp;'
    'sdata=xyz%3D&amp;reserved=0" target="_blank"><span>Click here to join the meeting</span>'
    '</a></div><div>Meeting ID: 245 896 123 456<br>Passcode: x7KmQp</div>'
    '<div><b>Join with a video conferencing device</b></div>'
    '<div>acme@vc.<wbr>acme-corp.example</div><div>Video Conference ID: 117 334 559 0</div>'
    '<div><a href="https://aka.ms/JoinTeamsMeeting">Learn More</a> | '
    '<a href="https://teams.microsoft.com/meetingOptions/?organizerId=1">Meeting options</a>'
    '</div></body></html>')

TEAMS_PROOFPOINT = """Microsoft Teams meeting
Join on your computer or mobile app
Click here to join the meeting<https://urldefense.com/v3/__https://teams.microsoft.com/l/meetup-join/19*3ameeting_MDAx*40thread.v2/0?context=*7b*22Tid*22*3a*22abc*22*7d__;JSUlJSUlJSUl!!ACWV5N9M2RV99hQ!abc$>
Learn More<https://urldefense.com/v3/__https://aka.ms/JoinTeamsMeeting__;!!ACWV5N9M2RV99hQ!def$>
"""

TEAMS_FR_VIMT = """Réunion Microsoft Teams
Rejoindre sur votre ordinateur, application mobile ou appareil de salle
Cliquez ici pour rejoindre la réunion <https://teams.microsoft.com/l/meetup-join/19%3ameeting_Zm9v%40thread.v2/0?context=%7b%7d>
ID de la réunion : 245 896 123 456
Code secret : x7KmQp
Participer à l'aide d'un appareil de vidéoconférence
globex@m.webex.com
ID vidéo : 114 556 778 9
"""

INVITES: tuple[Invite, ...] = (
    Invite("webex scheduled", "webex", WEBEX_SCHEDULED,
           "https://acme.webex.com/acme/j.php?MTID=m1234567890abcdef1234567890abcdef",
           "webex", "26341234567@acme.webex.com"),
    Invite("webex personal room", "webex", WEBEX_PERSONAL_ROOM,
           "https://acme.webex.com/meet/jdoe", "webex", "jdoe@acme.webex.com"),
    Invite("webex number only", "webex", WEBEX_NO_SIP,
           "https://globex.webex.com/globex/j.php?MTID=mabcdef0123456789abcdef0123456789",
           "webex", "25519876543@globex.webex.com"),
    Invite("zoom", "zoom", ZOOM, "https://us02web.zoom.us/j/85512345678?pwd=ZXhhbXBsZVBhc3N3b3Jk.1",
           "zoom", "85512345678.482913@zoomcrc.com"),
    Invite("zoom vanity", "zoom", ZOOM_VANITY, "https://acme.zoom.us/my/jane.doe?pwd=QWERTY",
           "zoom", "9876543210.777111@zoomcrc.com"),
    Invite("zoom webinar", "zoom", ZOOM_WEBINAR,
           "https://acme.zoom.us/w/98765432101?tk=AbCdEf.DQIAAAA&pwd=xyz", "zoom",
           "98765432101.3141@zoomcrc.com"),
    Invite("zoomgov", "zoomgov", ZOOMGOV, "https://agency.zoomgov.com/j/1601234567?pwd=Zm9vYmFy",
           "zoom", "1601234567@sip.zoomgov.com"),
    Invite("teams with poly vtc", "teams", TEAMS_VTC,
           "https://teams.microsoft.com/l/meetup-join/19%3ameeting_NjQ3ZmE5OTMtYjk4Ni00ZGI4LWE2"
           "NjQtYzE0ZGEzNDQ1MWQ3%40thread.v2/0?context=%7b%22Tid%22%3a%2272f988bf%22%2c%22Oid%22"
           "%3a%22d8c9f5e4%22%7d", "teams", "0123456789@t.plcm.vc"),
    Invite("teams /meet/ with webex vimt", "teams", TEAMS_CISCO_VIMT,
           "https://teams.microsoft.com/meet/2345678901234?p=AbCdEfGhIj", "teams",
           "1139224889.acme@m.webex.com"),
    Invite("teams live", "teams_live", TEAMS_LIVE,
           "https://teams.live.com/meet/9876543210987?p=xYz123", "teams"),
    Invite("goto", "goto", GOTO, "https://meet.goto.com/123456789", "gotomeeting",
           "123456789@67.217.95.2"),
    Invite("gotomeeting classic", "gotomeeting", GOTOMEETING_CLASSIC,
           "https://global.gotomeeting.com/join/987654321", "gotomeeting"),
    Invite("bluejeans", "bluejeans", BLUEJEANS,
           "https://bluejeans.com/123456789/1234?src=calendarLink", "bluejeans",
           "123456789.1234@bjn.vc"),
    Invite("chime", "chime", CHIME, "https://chime.aws/1234567890", "chime"),
    Invite("jitsi", "jitsi", JITSI, "https://meet.jit.si/WeeklyTeamSync", "jitsi"),
    Invite("whereby", "whereby", WHEREBY, "https://whereby.com/acme-standup", "whereby"),
    Invite("skype", "skype", SKYPE, "https://join.skype.com/AbCdEfGh1234", "skype"),
    Invite("ringcentral", "ringcentral", RINGCENTRAL,
           "https://v.ringcentral.com/join/123456789?pw=abcdef", "ringcentral"),
    Invite("lifesize", "lifesize", LIFESIZE, "https://call.lifesizecloud.com/1234567",
           "lifesize", "1234567@lifesizecloud.com"),
    Invite("slack huddle", "slack", SLACK,
           "https://app.slack.com/huddle/T01234567/C01234567", "slack"),
    Invite("discord", "discord_invite", DISCORD, "https://discord.gg/AbCdEf", "discord"),
    Invite("zoho", "zoho_meeting", ZOHO, "https://meeting.zoho.eu/meeting/join?key=1234567890",
           "zoho"),
    Invite("facetime", "facetime", FACETIME,
           "https://facetime.apple.com/join#v=1&p=AbCdEfGh&k=XyZ", "facetime"),
    Invite("8x8", "8x8", EIGHT_BY_EIGHT, "https://8x8.vc/acme/weekly-sync", "8x8"),
    Invite("gather", "gather", GATHER,
           "https://app.gather.town/app/AbC123/acme?spawnToken=xyz123", "gather"),
    Invite("dialpad", "dialpad", DIALPAD, "https://meetings.dialpad.com/room/acme", "dialpad"),
    Invite("tencent", "tencent", TENCENT, "https://meeting.tencent.com/dm/AbCdEf123", "tencent"),
    Invite("lark", "lark", LARK, "https://vc.larksuite.com/j/123456789", "lark"),
    Invite("livestorm", "livestorm", LIVESTORM,
           "https://app.livestorm.co/p/0123-abcd/live?s=xyz", "livestorm"),
    Invite("sip uri", "sip", SIP_ONLY, "sip:8881234@vc.globex.example", "sip",
           "8881234@vc.globex.example"),
    Invite("bare sip address", "sip", BARE_SIP, None, "sip", "4455667@video.globex.example"),
    Invite("zoom in german", "zoom", ZOOM_DE, "https://us06web.zoom.us/j/81234567890?pwd=YWJjZGVm.1",
           "zoom", "81234567890.135790@zoomcrc.com"),
    Invite("webex in japanese", "webex", WEBEX_JA,
           "https://acme.webex.com/acme/j.php?MTID=m0f1e2d3c4b5a69788796a5b4c3d2e1f0", "webex",
           "25512345678@acme.webex.com"),
    Invite("webex in chinese", "webex", WEBEX_ZH,
           "https://acme.webex.com/acme/j.php?MTID=m99aa88bb77cc66dd55ee44ff33aa22bb", "webex",
           "25518765432@acme.webex.com"),
    Invite("teams from outlook html with safelinks", "teams", TEAMS_OUTLOOK_HTML,
           "https://teams.microsoft.com/l/meetup-join/19%3ameeting_ZGQ1%40thread.v2/0?context="
           "%7b%22Tid%22%3a%22abc%22%7d", "teams", "1173345590@vc.acme-corp.example", is_html=True),
    Invite("teams behind proofpoint v3", "teams", TEAMS_PROOFPOINT,
           "https://teams.microsoft.com/l/meetup-join/19%3ameeting_MDAx%40thread.v2/0?context="
           "%7b%22Tid%22%3a%22abc%22%7d", "teams"),
    Invite("teams in french with webex video integration", "teams", TEAMS_FR_VIMT,
           "https://teams.microsoft.com/l/meetup-join/19%3ameeting_Zm9v%40thread.v2/0?context=%7b"
           "%7d", "teams", "1145567789.globex@m.webex.com"),
    Invite("zoom link in location", "zoom", "Agenda: see doc",
           "https://acme.zoom.us/j/91234567890", "zoom", "91234567890@zoomcrc.com",
           location="https://acme.zoom.us/j/91234567890", source="location"),
    Invite("meet link without scheme in location", "meet", "",
           "https://meet.google.com/abc-defg-hij", "meet",
           location="meet.google.com/abc-defg-hij", source="location"),
)
"""Full invitations: the detector must report exactly ``url``, ``provider`` and ``dial``."""
