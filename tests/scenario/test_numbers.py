"""Numbers people see (#story, #post, #swap, #activity) are never handed to a second entity."""

from __future__ import annotations

from bot.sandbox.standin import StandIn
from tests.conftest import BotFactory
from tests.scenario.test_skills import propose
from tests.scenario.test_stories import CARDS, reply_texts, say


async def erase(standin: StandIn, sender: str) -> str:
    await say(standin, "/删除我的数据", sender=sender)
    return (await say(standin, "/删除我的数据 确认", sender=sender)).text


async def _erasing_the_newest_never_frees_its_number(standin: StandIn) -> None:
    first = await reply_texts(standin, "/故事 第一个 | 爱丽丝的故事", 2, sender="alice")
    assert "故事 #1 " in first[0].text, first[0].text
    newest = await reply_texts(standin, "/故事 第二个 | 鲍勃的故事", 2, sender="bob")
    assert "#2" in newest[0].text
    old_card = newest[1].out_track_id
    await say(standin, "/我会 吉他", sender="bob")  # post #1
    swap_id = await propose(standin, 1, "alice")  # swap #1
    assert swap_id == 1
    assert "故事 1 条" in await erase(standin, "bob")  # the newest story, post and swap go
    # Alice is told one to one, through batchSend, paced by the API's shared rate: that
    # notice may come after the group's answer, so it is waited for before counting replies.
    await standin.wait_sent(where=lambda s: "交换请求已取消" in s.text and "alice" in s.user_ids)

    again = await reply_texts(standin, "/故事 第三个 | 卡萝尔的故事", 2, sender="carol")
    assert "#3" in again[0].text, again[0].text  # not #2 again
    sent = await say(standin, "/我会 钢琴", sender="carol")
    assert "#2" in sent.text, sent.text  # post #1 was erased; its number stays retired
    await say(standin, "/我想学 钢琴", sender="alice")
    assert await propose(standin, 2, "alice") == 2

    # The old number answers "not found" by command and by the old card's button.
    sent = await say(standin, "/赞 2", sender="alice")
    assert "没有编号为 2 的故事" in sent.text, sent.text
    push = await standin.click(old_card, "alice", {"action": "like", "id": "2"})
    message = StandIn.response_of(push)["userPrivateData"]["cardParamMap"]["message"]
    assert "没有编号为 2 的故事" in message or "已失效" in message, message
    sent = await say(standin, "/故事榜 all", sender="alice")
    assert "第三个" in sent.text and "0 赞" in sent.text.split("第三个")[1].split("\n")[0]
    sent = await say(standin, "/交换 接受 1", sender="carol")
    assert "没有编号为 1 的交换" in sent.text or "#1" in sent.text, sent.text
    assert "接受" not in sent.text.replace("/交换 接受", "")


async def test_erasing_the_newest_never_frees_its_number(
    standin: StandIn, start_bot: BotFactory
) -> None:
    await start_bot(cards=CARDS, stories={"review_default": False})
    await _erasing_the_newest_never_frees_its_number(standin)


async def test_erasing_the_newest_never_frees_its_number_on_postgres(
    standin: StandIn, start_bot: BotFactory, pg_url: str
) -> None:
    await start_bot(cards=CARDS, stories={"review_default": False}, storage={"url": pg_url})
    await _erasing_the_newest_never_frees_its_number(standin)
