"""Build the Chinese PsyQA-format role-matching sets from the hand-written questions.

    python -m training.data.psyqa_zh.build

Reads ``train.txt`` and ``heldout.txt`` (``title|description|more keywords`` under ``# <topic>``) and writes
PsyQA-shaped JSON (``questionID``, ``question``, ``description``, ``keywords`` with the topic first,
``answers``): ``train.json`` next to this file and the held-out part to ``tests/fixtures/psyqa_zh_roles.json``.

Real PsyQA descriptions ramble: a self-introduction, the problem, then how the writer feels and a plea for
advice. The hand-written descriptions carry the problem; ``build`` wraps each one, deterministically (seed 0),
in 0-3 topic-neutral sentences of that kind. The training part and the held-out part draw them from two
disjoint pools, so a model cannot learn the held-out wrapping, and the held-out part only wraps
descriptions shorter than 80 characters (most held-out descriptions are already long). Every training
description gets at least 50 characters, every held-out one at least 60; about one training question in
seven rambles on for 5-7 extra sentences.
"""

from __future__ import annotations

from pathlib import Path

from training.data.psyqa_questions import REPO_ROOT, Wrapping, write_sets

HERE = Path(__file__).resolve().parent
HELDOUT_OUT = REPO_ROOT / "tests" / "fixtures" / "psyqa_zh_roles.json"
TRAIN_OUT = HERE / "train.json"

TRAIN_PREFIX = ("楼主女，22岁，", "本人男，28岁，在一线城市打拼。", "第一次在这里提问，有点紧张。", "坐标杭州，", "说来话长，",
                "先说一下背景，", "我是一名大三学生。", "今年三十一岁，", "不知道发在这里合不合适，", "匿名问一下。",
                "我平时是个挺乐观的人，", "憋了很久了，今天终于想说出来。", "手机打字，排版可能有点乱。", "可能有点啰嗦，请耐心看完。",
                "我是个比较内向的人，")
TRAIN_FILLER = ("说出来也不怕大家笑话。", "有时候真的觉得好累。", "身边的人都说我想太多了。", "我也不知道自己到底怎么了。",
                "这种状态已经持续挺久了。", "晚上经常想着这些事睡不着。", "我试着跟朋友说过，但她们好像不太理解。", "有时候会一个人偷偷哭。",
                "我知道很多道理，但就是做不到。", "真的很想改变现在的状态。", "每天都在自我怀疑。", "感觉自己快撑不住了。",
                "不知道大家有没有类似的经历？", "希望有过来人能给点建议，谢谢。", "想听听专业的意见。", "写得有点乱，想到哪说到哪。",
                "谢谢你们愿意看完。", "到底该怎么办才好？", "求大家指点迷津。", "我该怎么调整自己？", "我是不是哪里出了问题？",
                "越想越乱。", "最近工作也不太顺利，事情一件接一件。", "家里人也不太知道我的情况。", "有时候觉得别人都过得比我好。",
                "我一直觉得自己是个挺普通的人。", "心里很矛盾。", "最近吃饭也没什么胃口。", "我不想再这样下去了。",
                "想找个人说说，又不知道找谁。")
HELDOUT_PREFIX = ("楼主男，二十四岁，", "先交代一下，", "我是一个普通上班族，", "第一次发帖，", "有点长，见谅。", "也不知道从哪说起，")
HELDOUT_FILLER = ("真的很苦恼。", "这件事困扰我很久了。", "想请教一下大家。", "不知道该跟谁说，就来这里问问。", "感觉自己越来越不像自己了。",
                  "我该怎么做呢？", "心里堵得慌。", "有谁能帮帮我吗？", "每次想到这里就很难受。", "大家遇到这种情况都是怎么处理的？",
                  "说多了都是泪。", "我真的不知道该怎么办了。")
ANSWER = "看得出这件事让你很辛苦，谢谢你愿意把它写下来。我们可以先从你最在意的那一点开始，慢慢理一理。"


def main() -> int:
    return write_sets([(HERE / "train.txt", TRAIN_OUT, Wrapping(TRAIN_PREFIX, TRAIN_FILLER, min_length=50)),
                       (HERE / "heldout.txt", HELDOUT_OUT,
                        Wrapping(HELDOUT_PREFIX, HELDOUT_FILLER, min_length=60, heldout=True))], ANSWER)


if __name__ == "__main__":
    raise SystemExit(main())
