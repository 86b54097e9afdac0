#!/usr/bin/env bash
# Train the SR family side by side on one NVIDIA GPU: each variant is its
# own `edgegan train sr --device cuda` process (the nets are small, so one
# process leaves the GPU mostly idle; the host's cores share patch making
# and the tract validations).
#
#   scripts/gpu_train_sr.sh BIN DATA VAL OUT MINUTES [VARIANT...]
#
# BIN: an edgegan built by scripts/build_cuda_train.sh. DATA: training
# photos already shrunk (the shipped runs: the photos of
# `scripts/fetch_train_data.py --extra` shrunk 3x with PIL bicubic, JPEG
# q93, by scripts/pack_gpu_data.py, to travel under the GPU machine's
# 64 MiB cap). VAL:
# validation photos (every 4th dev photo). OUT: holds one model directory
# and one work folder per variant. MINUTES: each run's wall budget; the
# learning rate follows it. A work folder already in OUT is resumed, so a
# run cut short by the machine's per-command limit goes on where its last
# checkpoint left it (same MINUTES: the schedule counts the earlier time).
# VAL_EVERY (default 500) sets the steps between validations; THREADS the
# patch-making threads per run (default: the cores shared evenly); BATCH
# the L1 variants' batch (default 64).
set -euo pipefail
[ $# -ge 5 ] || { sed -n 2,21p "$0"; exit 2; }
bin=$1 data=$2 val=$3 out=$4 minutes=$5
shift 5
variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(x2-init x4-init x4-real)
threads=${THREADS:-$(( $(nproc) / ${#variants[@]} ))}
[ "$threads" -ge 1 ] || threads=1
mkdir -p "$out"
pids=()
# Stopped (a command limit's timeout): stop the runs too, so that what
# they left can be packed; each keeps its last checkpoint.
trap 'kill "${pids[@]}" 2>/dev/null; wait; exit 143' TERM INT
for v in "${variants[@]}"; do
    # xS-cC: xS with C channels from scratch; xS-init: on from models/sr-xS;
    # xS-bB: on from models/sr-xS deepened to B body convs (the new ones
    # start as identities); xS-l2: an L2 (MSE) fine-tune of models/sr-xS
    # at lr 1e-4;
    # x4-real: the degraded-input model, on from models/sr-x4; NAME@DIR:
    # NAME on from the model directory DIR instead, at half the rate and
    # with another seed (other patches than the run that made DIR);
    # xS-gan: the GAN stage re-tuned from models/sr-xS with the settings
    # of models/sr-xS-gan's card (batch 16, EMA 0.99), validated every 200
    # steps (its selection picks among the points).
    from=${v#*@} lr=5e-4 seed=1 batch=${BATCH:-64} ema=0.999 every=${VAL_EVERY:-500}
    [ "$from" != "$v" ] && v=${v%%@*} lr=2.5e-4 seed=2
    case $v in
        x4-real) [ "$from" != "$v" ] || from=models/sr-x4
                 args=(--scale 4 --degrade blur,noise,jpeg --init "$from" --lr $lr) ;;
        x[24]-init) [ "$from" != "$v" ] || from=models/sr-x${v:1:1}
                    args=(--scale "${v:1:1}" --init "$from" --lr $lr) ;;
        x[24]-c[0-9]*) s=${v:1:1}; c=${v##*-c}; args=(--scale "$s" --channels "$c" --lr 1e-3) ;;
        x[24]-l2) [ "$from" != "$v" ] || from=models/sr-x${v:1:1}
                  args=(--scale "${v:1:1}" --stage l2 --init "$from" --lr 1e-4) ;;
        x[24]-b[0-9]*) [ "$from" != "$v" ] || from=models/sr-x${v:1:1}
                       args=(--scale "${v:1:1}" --body "${v##*-b}" --init "$from" --lr $lr) ;;
        x[24]-gan) [ "$from" != "$v" ] || from=models/sr-x${v:1:1}
                   batch=16 ema=0.99 every=200
                   args=(--scale "${v:1:1}" --stage gan --init "$from" --lr 1e-4 --d-lr 4e-4) ;;
        *) echo "unknown variant $v" >&2; exit 2 ;;
    esac
    resume=()
    [ -d "$out/$v.work/checkpoint" ] && resume=(--resume)
    RAYON_NUM_THREADS=$threads "$bin" train sr --device cuda "${args[@]}" \
        --data "$data" --prescale 1 --val "$val" --val-stride 1 --val-every $every \
        --batch $batch --patch 48 --ema $ema --steps 1000000 --minutes "$minutes" --seed $seed \
        --work "$out/$v.work" --out "$out/$v" "${resume[@]}" > "$out/$v.log" 2>&1 &
    pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=$?; done
exit $rc
