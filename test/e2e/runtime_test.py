#!/usr/bin/env python3
"""End-to-end tests of a generated executable (convseqc -o <exe>).

Usage: runtime_test.py <exe> <trec-dir> <case>

Each case is one ctest test: it runs the executable the way a user would,
in a fresh temporary directory, and checks exit codes, outputs, checkpoints
(read with the 20-line safetensors reader below) and error messages.
"""

import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time

EXE, TREC, CASE = sys.argv[1], sys.argv[2], sys.argv[3]
TRAIN = os.path.join(TREC, "train.tsv")
TEST = os.path.join(TREC, "test.tsv")
COLUMNS = ["--source_column=2", "--target_column=0"]


def read_safetensors(path):
    """A complete safetensors reader: {name: (dtype, shape, bytes)}, metadata."""
    with open(path, "rb") as f:
        data = f.read()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + size])
    metadata = header.pop("__metadata__", {})
    body = data[8 + size:]
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        tensors[name] = (info["dtype"], info["shape"], body[begin:end])
    return tensors, metadata


def run(*args, stdin=None, expect=0, cwd=None):
    result = subprocess.run([EXE, *args], input=stdin, capture_output=True,
                            text=True, cwd=cwd)
    if expect is not None and result.returncode != expect:
        sys.exit(f"FAIL: {' '.join(args)} exited {result.returncode}, "
                 f"expected {expect}\nstdout:\n{result.stdout}\n"
                 f"stderr:\n{result.stderr}")
    return result


def check(condition, message):
    if not condition:
        sys.exit("FAIL: " + message)


def train(out, *args, expect=0):
    return run("train", f"--train={TRAIN}", *COLUMNS, f"--output_dir={out}",
               *args, expect=expect)


def case_learns(tmp):
    """300 steps on TREC: well above the majority class (27.6%); eval and
    predict agree with what train reports."""
    out = os.path.join(tmp, "run")
    result = train(out, f"--test={TEST}")
    line = [l for l in result.stdout.splitlines()
            if l.startswith("test accuracy")]
    check(line, "no test accuracy printed:\n" + result.stdout)
    accuracy = float(line[0].split()[2])
    print(line[0])
    check(accuracy > 0.5, f"test accuracy {accuracy} is not above 0.5")

    tensors, metadata = read_safetensors(
        os.path.join(out, "ckpt-00000300.safetensors"))
    check(metadata["step"] == "300" and metadata["model"] == "trec-tiny",
          f"checkpoint metadata {metadata.keys()}")
    check(tensors["embedding"][0] == "F32" and
          tensors["embedding"][1] == [2000, 64], "embedding tensor")
    check(any(name.startswith("opt.") for name in tensors),
          "no optimizer state in the checkpoint")
    with open(os.path.join(out, "metrics.jsonl")) as f:
        steps = [json.loads(l) for l in f]
    check(len([m for m in steps if "loss" in m]) == 300, "metrics lines")

    evaluated = run("eval", f"--checkpoint={out}", f"--data={TEST}",
                    *COLUMNS, f"--predictions={tmp}/p.tsv")
    check(evaluated.stdout.split()[1] == line[0].split()[2],
          f"eval says {evaluated.stdout!r}, train said {line[0]!r}")
    beam = run("eval", f"--checkpoint={out}", f"--data={TEST}", *COLUMNS,
               "--beam=4")
    print("beam 4:", beam.stdout.strip())
    check(float(beam.stdout.split()[1]) > 0.5, beam.stdout)
    predicted = run("predict", f"--checkpoint={out}", "--beam=3",
                    stdin="Who wrote Hamlet ?\nHow many feet are in a mile ?\n"
                          "Where is the Eiffel Tower ?\n")
    labels = predicted.stdout.split("\n")[:-1]
    words = {"abbreviation", "description", "entity", "human", "location",
             "number"}
    print("predictions:", labels)
    check(len(labels) == 3 and all(l in words for l in labels),
          f"predictions {labels!r}")


def case_resume(tmp):
    """2 x 20 steps with a resume in between equal 40 steps straight."""
    straight, split = os.path.join(tmp, "a"), os.path.join(tmp, "b")
    train(straight, "--steps=40")
    train(split, "--steps=20")
    result = train(split, "--steps=40", "--resume")
    check("resuming from" in result.stderr, result.stderr)
    a, _ = read_safetensors(os.path.join(straight, "ckpt-00000040.safetensors"))
    b, _ = read_safetensors(os.path.join(split, "ckpt-00000040.safetensors"))
    check(a.keys() == b.keys(), "different tensors")
    for name in a:
        check(a[name] == b[name], f"tensor {name} differs after resuming")
    train(split, "--steps=40", expect=1)  # refuses to overwrite a run


def case_accumulate(tmp):
    """Gradient accumulation (--accumulate=2, two micro-batches a step):
    learns, resumes bit-exactly, and refuses a resume with another k."""
    straight, split = os.path.join(tmp, "a"), os.path.join(tmp, "b")
    flags = ["--accumulate=2", "--batch_size=8"]
    result = train(straight, "--steps=30", *flags)
    check("batch 8 x 2 micro-batches" in result.stderr, result.stderr)
    with open(os.path.join(straight, "metrics.jsonl")) as f:
        losses = [json.loads(l)["loss"] for l in f]
    print(f"loss: first 5 steps {sum(losses[:5]) / 5:.3f}, "
          f"last 5 {sum(losses[-5:]) / 5:.3f}")
    check(len(losses) == 30 and sum(losses[-5:]) < sum(losses[:5]) - 1.0,
          f"accumulated steps do not learn: {losses}")
    _, metadata = read_safetensors(
        os.path.join(straight, "ckpt-00000030.safetensors"))
    check(metadata["accumulate"] == "2", f"metadata {metadata}")

    train(split, "--steps=15", *flags)
    result = train(split, "--steps=30", "--resume", "--accumulate=3",
                   "--batch_size=8", expect=1)
    check("resume it with --accumulate=2" in result.stderr, result.stderr)
    train(split, "--steps=30", "--resume", *flags)
    a, _ = read_safetensors(os.path.join(straight, "ckpt-00000030.safetensors"))
    b, _ = read_safetensors(os.path.join(split, "ckpt-00000030.safetensors"))
    for name in a:
        check(a[name] == b[name], f"tensor {name} differs after resuming")

    result = train(os.path.join(tmp, "c"), "--accumulate=0", expect=1)
    check("--accumulate=0: expected at least 1" in result.stderr,
          result.stderr)


def case_interrupt(tmp):
    """SIGINT saves a checkpoint of the last finished step and exits 130."""
    out = os.path.join(tmp, "run")
    process = subprocess.Popen(
        [EXE, "train", f"--train={TRAIN}", *COLUMNS, f"--output_dir={out}",
         "--steps=100000", "--save_every=100000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    metrics = os.path.join(out, "metrics.jsonl")
    deadline = time.time() + 120
    while time.time() < deadline:
        if os.path.exists(metrics) and os.path.getsize(metrics) > 300:
            break
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    check(process.returncode == 130, f"exit {process.returncode}: {stderr}")
    check("interrupted" in stderr, stderr)
    with open(metrics) as f:
        last = json.loads(f.readlines()[-1])["step"]
    saved = os.path.join(out, f"ckpt-{last:08d}.safetensors")
    check(os.path.exists(saved), f"no checkpoint {saved}")
    read_safetensors(saved)
    check(not [f for f in os.listdir(out) if f.endswith(".tmp")],
          "a temporary file was left")
    train(out, "--resume", f"--steps={last + 2}")
    check(os.path.exists(os.path.join(out, f"ckpt-{last + 2:08d}.safetensors")),
          "resume after the interrupt did not continue")


def case_pretrain_then_finetune(tmp):
    """Span-corruption pre-training on raw text, then fine-tuning on TREC
    from its checkpoint (the paper's workflow)."""
    text = os.path.join(tmp, "text.txt")
    with open(TRAIN, encoding="utf-8") as source, open(text, "wb") as out:
        for i, line in enumerate(source):
            out.write(line.split("\t")[2].strip().encode() +
                      (b"\r\n" if i % 7 == 0 else b"\n"))
        out.write(b"caf\xe9 au lait , a Latin-1 byte\n")
    pre = os.path.join(tmp, "pre")
    result = run("train", "--task=span_corruption", f"--train={text}",
                 f"--output_dir={pre}", "--steps=30")
    check("training a SentencePiece tokenizer" in result.stderr,
          result.stderr)
    tensors, metadata = read_safetensors(
        os.path.join(pre, "ckpt-00000030.safetensors"))
    check(metadata["task"] == "span_corruption", str(metadata.get("task")))
    with open(os.path.join(pre, "metrics.jsonl")) as f:
        losses = [json.loads(l)["loss"] for l in f]
    check(losses[-1] < losses[0], f"pre-training loss {losses[0]} -> "
          f"{losses[-1]}")

    tuned = os.path.join(tmp, "tuned")
    result = train(tuned, f"--init_from={pre}/ckpt-00000030.safetensors",
                   "--steps=20", f"--test={TEST}")
    check("training a SentencePiece tokenizer" not in result.stderr,
          "fine-tuning trained a new tokenizer:\n" + result.stderr)
    _, metadata = read_safetensors(
        os.path.join(tuned, "ckpt-00000020.safetensors"))
    check(metadata["tokenizer"] == os.path.join(pre, "tokenizer.model"),
          f"fine-tuned with tokenizer {metadata['tokenizer']}")
    check("test accuracy" in result.stdout, result.stdout)
    result = run("train", f"--train={text}", f"--output_dir={pre}",
                 "--steps=40", "--resume", expect=1)
    check("span_corruption" in result.stderr, result.stderr)


def case_bad_data(tmp):
    """Malformed lines are errors with their line number, or skipped."""
    bad = os.path.join(tmp, "bad.tsv")
    with open(bad, "wb") as f:
        f.write(b"HUM\tHUM:ind\tWho is Galileo ?\n"
                b"LOC\tLOC:city\tWhere is Paris ?\n"
                b"NUM\tonly two columns\n"
                b"XYZ\tX:y\tWhat is this label ?\n"
                b"DESC\tDESC:def\tWhat is \xff an atom ?\n"
                b"ENTY\tENTY:animal\tWhat is a dog ?\n")
    out = os.path.join(tmp, "run")
    result = run("train", f"--train={bad}", *COLUMNS, f"--output_dir={out}",
                 "--steps=2", "--tokenizer=", expect=1)
    check("bad.tsv:3:" in result.stderr and "columns" in result.stderr,
          result.stderr)
    result = run("train", f"--train={bad}", *COLUMNS, f"--output_dir={out}",
                 "--steps=2", "--skip_malformed", expect=None)
    check("3 malformed skipped" in result.stderr,
          f"exit {result.returncode}: {result.stderr}")
    result = run("train", f"--train={tmp}/missing.tsv", *COLUMNS,
                 f"--output_dir={tmp}/r2", expect=1)
    check("missing.tsv" in result.stderr, result.stderr)


def case_bad_checkpoint(tmp):
    """Truncated, foreign and mismatched checkpoints are clear errors."""
    out = os.path.join(tmp, "run")
    train(out, "--steps=3")
    good = os.path.join(out, "ckpt-00000003.safetensors")
    with open(good, "rb") as f:
        data = f.read()
    truncated = os.path.join(tmp, "truncated.safetensors")
    with open(truncated, "wb") as f:
        f.write(data[:len(data) // 2])
    result = run("eval", f"--checkpoint={truncated}", f"--data={TEST}",
                 *COLUMNS, expect=1)
    check("truncated.safetensors" in result.stderr, result.stderr)

    tensors, metadata = read_safetensors(good)
    def write(path, tensors, metadata):
        header, offset, body = {"__metadata__": metadata}, 0, b""
        for name, (dtype, shape, raw) in tensors.items():
            header[name] = {"dtype": dtype, "shape": shape,
                            "data_offsets": [offset, offset + len(raw)]}
            offset += len(raw)
            body += raw
        text = json.dumps(header).encode()
        with open(path, "wb") as f:
            f.write(struct.pack("<Q", len(text)) + text + body)
    reshaped = dict(tensors)
    dtype, shape, raw = reshaped["embedding"]
    reshaped["embedding"] = (dtype, [shape[1], shape[0]], raw)
    wrong = os.path.join(tmp, "wrong.safetensors")
    write(wrong, reshaped, metadata)
    result = run("eval", f"--checkpoint={wrong}", f"--data={TEST}", *COLUMNS,
                 expect=1)
    check("'embedding'" in result.stderr and "expects" in result.stderr,
          result.stderr)
    missing = {k: v for k, v in tensors.items() if k != "embedding"}
    write(wrong, missing, metadata)
    result = run("eval", f"--checkpoint={wrong}", f"--data={TEST}", *COLUMNS,
                 expect=1)
    check("no tensor 'embedding'" in result.stderr, result.stderr)
    write(wrong, tensors, {})
    result = run("eval", f"--checkpoint={wrong}", f"--data={TEST}", *COLUMNS,
                 expect=1)
    check("not a convseq checkpoint" in result.stderr, result.stderr)


def case_command_line(tmp):
    """Usage, --help per command, unknown commands and foreign flags."""
    result = run(expect=1)
    check("train" in result.stdout and "predict" in result.stdout,
          result.stdout)
    result = run("train", "--help", expect=None)
    check("--train" in result.stdout + result.stderr and
          "--predictions" not in result.stdout + result.stderr,
          result.stdout + result.stderr)
    result = run("bogus", expect=1)
    check("unknown command 'bogus'" in result.stderr, result.stderr)
    result = run("eval", "--steps=3", f"--data={TEST}", expect=1)
    check("--steps is not a flag of 'eval'" in result.stderr, result.stderr)
    result = train(os.path.join(tmp, "run"), "--steps=3", "--epochs=1",
                   expect=1)
    check("--steps and --epochs both say when to stop" in result.stderr,
          result.stderr)
    result = run("predict", "--beam=0", expect=1)
    check("beam width must be at least 1" in result.stderr, result.stderr)
    result = run("info")
    check("trec-tiny" in result.stdout and "train_step" in result.stdout,
          result.stdout)


CASES = {name[5:]: f for name, f in globals().items()
         if name.startswith("case_")}

if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        CASES[CASE](tmp)
    print("PASS", CASE)
