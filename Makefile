# Vigil — common tasks. `make run` and `make test` work on a fresh Debian
# machine: both call `make setup` first, which installs what is missing.

VTEST   := /usr/share/doc/opencv-doc/examples/data/vtest.avi
PETS_GT := ../shared/data/mot/PETS09-S2L1/gt.txt
OUT     := out
BIN     := bin/vigil
GO      ?= go

.PHONY: all setup build run analyze test test-short bench bench-serve bench-capacity int8-calibrate eval-int8 bench-cluster eval-pets eval-public eval-events eval-detplan eval-highway eval-anomaly eval-motion eval-ped2 vet fmt clean

all: build

setup:
	@scripts/setup.sh

build:
	$(GO) build -o $(BIN) ./cmd/vigil

# The service on the bundled sample footage: two looping cameras with their
# scenes; open the printed URL for the console (live views, alerts).
run: setup build
	$(BIN) serve --config configs/demo.yaml

# Analyse the sample footage once with its scene: annotated video, MOT
# tracks, JSON lines, alerts with snapshots, line counts.
analyze: setup build
	@mkdir -p $(OUT)
	$(BIN) analyze $(VTEST) --classes person,vehicle,carried --scene scenes/pets09-s2l1.yaml \
		--video $(OUT)/vtest-annotated.mp4 --mot $(OUT)/vtest-tracks.txt --jsonl $(OUT)/vtest-frames.jsonl \
		--events $(OUT)/vtest-alerts.jsonl --snapshots $(OUT)/snapshots --counts $(OUT)/vtest-counts.json

# Every test (scripts/test.sh): PostgreSQL and mosquitto made ready, then
# all packages with the race detector and -short, then the long pass
# without either: exactly the tests internal/tools/testskips/allowlist.txt
# lets skip under -short or names to run again in full (full-footage
# acceptance and parity, Ped2, kill -9 of the service, 20 s camera outages). A failure,
# or a skip not on that allowlist, fails the target.
test:
	@scripts/setup.sh --test
	@GO=$(GO) scripts/test.sh

test-short:
	$(GO) test -short ./...

bench: setup build
	$(BIN) bench $(VTEST) --frames 0
	$(GO) test -run XXX -bench . -benchtime 2s ./internal/track/ ./internal/assign/ ./internal/detect/...

# Soak benchmark of the service: 4 RTSP cameras at 5 fps for 10 minutes
# (VIGIL_BENCH_DURATION to change it).
bench-serve: setup
	$(GO) test -run XXX -bench Serve4RTSP -benchtime 1x -timeout 30m ./internal/service/

# Issue 14: the largest number of 25 fps RTSP cameras analysed at 5 fps
# each with every frame tracked, no drop and p95 frame→alert under 1 s.
# VIGIL_CAPACITY_N (default 4,8,12,16) and VIGIL_CAPACITY_DURATION (60s);
# VIGIL_CAPACITY_MODEL=yolov8n-int8.onnx runs the lanes on the int8 model.
bench-capacity: setup
	$(GO) test -run XXX -bench Capacity -benchtime 1x -timeout 60m ./internal/service/

MODELS ?= $(or $(VIGIL_CACHE),$(HOME)/.cache/vigil)/models

# The int8 model's calibration ranges (testdata/int8/README.md): the float
# export cut at its head with every tensor an output, run on 48 frames of
# footage that is not PETS09, then the int8 model quantised from them into
# out/int8 with its sha256. After a new calibration, pin that hash as
# INT8_SHA in scripts/setup.sh and check TestInt8MatchesFloat.
int8-calibrate: setup
	@mkdir -p $(OUT)/int8
	/usr/bin/python3 scripts/quantise-yolo.py calib-graph $(MODELS)/yolov8n.onnx $(OUT)/int8/yolov8n-calib.onnx
	$(GO) run ./internal/tools/int8calib -graph $(OUT)/int8/yolov8n-calib.onnx -out testdata/int8/yolov8n-ranges.json
	/usr/bin/python3 scripts/quantise-yolo.py quantise $(MODELS)/yolov8n.onnx testdata/int8/yolov8n-ranges.json $(OUT)/int8/yolov8n-int8.onnx
	sha256sum $(OUT)/int8/yolov8n-int8.onnx

# Issue 15: the city-scale benchmark. Real `vigil serve` processes (3
# workers, 1 api+coordinator) over an in-process 3-server NATS cluster and
# PostgreSQL (VIGIL_TEST_POSTGRES, default the local vigil database), with
# replay cameras at 5 fps (PETS09-S2L1 ground truth as recorded detections
# through the analysis chain; video from an in-process replay source, or
# VIGIL_BENCH_SOURCE=ffmpeg for image folders decoded by ffmpeg;
# VIGIL_BENCH_CLIPS=off turns the workers' alert clips off).
# VIGIL_BENCH_CLUSTER: camera counts (305,3000); VIGIL_BENCH_DURATION: the
# window (60s); VIGIL_BENCH_WARMUP (20s).
VIGIL_BENCH_CLUSTER ?= 305,3000
bench-cluster: setup
	VIGIL_BENCH_CLUSTER=$(VIGIL_BENCH_CLUSTER) $(GO) test -run '^TestClusterScaleBench$$' -v -count 1 -timeout 120m ./internal/cli/

# Full pipeline on PETS09-S2L1 (vtest.avi) scored against its ground truth.
# The int8 model (README, "The int8 model") on PETS09: the full pipeline at
# 10 fps and the detection plan at 5 fps, to set beside eval-pets and
# eval-detplan.
eval-int8: setup build
	@mkdir -p $(OUT)/int8
	$(BIN) analyze $(VTEST) --classes person --threads 1 --model-size n-int8 --mot $(OUT)/int8/pets-tracks.txt --progress none
	$(BIN) eval mot --gt $(PETS_GT) --pred $(OUT)/int8/pets-tracks.txt
	$(BIN) bench-detplan $(VTEST) --fps 5 --classes person --threads 1 --model-size n-int8 --gt $(PETS_GT) --tracks-out $(OUT)/int8/detplan-pets

eval-pets: setup build
	@mkdir -p $(OUT)
	$(BIN) analyze $(VTEST) --classes person --mot $(OUT)/pets-tracks.txt --progress none
	$(BIN) eval mot --gt $(PETS_GT) --pred $(OUT)/pets-tracks.txt

.PHONY: eval-reid eval-appearance

# Re-identification: OSNet on PETS09-S2L1 ground-truth crops, segment retrieval.
eval-reid: setup build
	@mkdir -p $(OUT)
	$(BIN) eval reid --gt $(PETS_GT) --input $(VTEST) --reid-model ../shared/models/osnet_x0_25_msmt17.dynbatch.onnx --save-embeddings $(OUT)/pets-crops.jsonl

# PETS09-S2L1 with appearance (--appearance) at 10 fps and at 5 fps; the
# 5 fps run is scored against the gt of the analysed frames (1, 3, 5, ...).
REID_MODEL := ../shared/models/osnet_x0_25_msmt17.dynbatch.onnx
eval-appearance: setup build
	@mkdir -p $(OUT)
	$(BIN) analyze $(VTEST) --classes person --appearance --reid-model $(REID_MODEL) --mot $(OUT)/pets-app.txt --progress none
	$(BIN) eval mot --gt $(PETS_GT) --pred $(OUT)/pets-app.txt
	$(BIN) analyze $(VTEST) --classes person --fps 5 --appearance --reid-model $(REID_MODEL) --mot $(OUT)/pets-app5.txt --progress none
	awk -F, '($$1-1)%2==0' $(PETS_GT) > $(OUT)/pets-gt5.txt
	$(BIN) eval mot --gt $(OUT)/pets-gt5.txt --pred $(OUT)/pets-app5.txt

# The tracker alone on public Faster R-CNN detections (evaluation-only data).
eval-public: build
	@mkdir -p $(OUT)
	$(BIN) analyze --public-dets ../shared/data/mot/TUD-Campus/det-frcnn.txt --seq-fps 25 --track-high 0.7 --track-new 0.8 --mot $(OUT)/tud-frcnn.txt --progress none
	$(BIN) eval mot --gt ../shared/data/mot/TUD-Campus/gt.txt --pred $(OUT)/tud-frcnn.txt
	$(BIN) analyze --public-dets ../shared/data/mot/PETS09-S2L1/det-frcnn.txt --seq-fps 7 --track-high 0.7 --track-new 0.8 --mot $(OUT)/pets-frcnn.txt --progress none
	$(BIN) eval mot --gt $(PETS_GT) --pred $(OUT)/pets-frcnn.txt

# Scene alerts on PETS09-S2L1: rules on the pipeline's tracks vs the same
# rules on the human ground-truth tracks.
eval-events: setup build
	@mkdir -p $(OUT)
	$(BIN) analyze $(VTEST) --classes person --scene scenes/pets09-s2l1.yaml --events $(OUT)/pets-alerts.jsonl --jsonl $(OUT)/pets-frames.jsonl --progress none
	$(BIN) analyze --tracks-from $(PETS_GT) --seq-fps 10 --scene scenes/pets09-s2l1.yaml --events $(OUT)/pets-gt-alerts.jsonl --progress none
	$(BIN) eval events --gt $(OUT)/pets-gt-alerts.jsonl --pred $(OUT)/pets-alerts.jsonl
	@echo "== tripwires over the whole plaza (scenes/pets09-tripwires.yaml), the run's tracks replayed"
	$(BIN) analyze --tracks-from $(PETS_GT) --seq-fps 10 --scene scenes/pets09-tripwires.yaml --events $(OUT)/pets-gt-tripwires.jsonl --progress none
	$(BIN) analyze --tracks-from $(OUT)/pets-frames.jsonl --seq-fps 10 --scene scenes/pets09-tripwires.yaml --events $(OUT)/pets-tripwires.jsonl --progress none
	$(BIN) eval events --gt $(OUT)/pets-gt-tripwires.jsonl --pred $(OUT)/pets-tripwires.jsonl

# Wrong-way on the highway camera, forwards (none) and reversed (every vehicle).
eval-highway: setup
	$(GO) test -count=1 -run 'TestHighwayWrongWayAcceptance' -v ./internal/cli/ | grep -E 'highway:|ok|FAIL'

# The learned baseline (no rules): learn an hour of each camera's normal
# traffic (the footage looped), count anomaly alerts after a 10-minute
# warm-up; the highway model then scores the highway played in reverse.
HIGHWAY := ../shared/data/cdnet-highway/input
eval-anomaly: setup build
	@mkdir -p $(OUT)
	$(BIN) analyze $(VTEST) --classes person --jsonl $(OUT)/vtest-frames.jsonl --progress none
	$(BIN) analyze $(HIGHWAY) --classes vehicle --jsonl $(OUT)/highway-frames.jsonl --progress none
	$(BIN) analyze $(HIGHWAY) --classes vehicle --reverse --jsonl $(OUT)/highway-reversed-frames.jsonl --progress none
	$(BIN) eval anomaly --scene scenes/pets09-s2l1.yaml --learn $(OUT)/vtest-frames.jsonl --warmup 10m --save $(OUT)/pets.baseline
	@k=$$(( $$(wc -l < $(OUT)/vtest-frames.jsonl) * 6 / 10 )); \
		head -n $$k $(OUT)/vtest-frames.jsonl > $(OUT)/vtest-learn60.jsonl; \
		tail -n +$$((k+1)) $(OUT)/vtest-frames.jsonl > $(OUT)/vtest-score40.jsonl
	$(BIN) eval anomaly --scene scenes/pets09-s2l1.yaml --learn $(OUT)/vtest-learn60.jsonl --warmup 10m --score $(OUT)/vtest-score40.jsonl
	$(BIN) eval anomaly --scene scenes/cdnet-highway.yaml --learn $(OUT)/highway-frames.jsonl --warmup 10m \
		--score $(OUT)/highway-reversed-frames.jsonl --events $(OUT)/highway-anomalies.jsonl --save $(OUT)/highway.baseline
	$(BIN) baseline heatmap $(OUT)/highway.baseline --scene scenes/cdnet-highway.yaml --kind direction --background $(HIGHWAY) --out $(OUT)/highway-direction.png
	$(BIN) baseline heatmap $(OUT)/pets.baseline --scene scenes/pets09-s2l1.yaml --kind occupancy --background $(VTEST) --out $(OUT)/pets-occupancy.png

# The motion cue (untracked unusual motion) on an hour of looped footage
# with the pipeline's tracks; needs the JSON lines of make eval-anomaly.
eval-motion: build
	$(BIN) eval motion --input $(VTEST) --tracks $(OUT)/vtest-frames.jsonl --hours 1 --warmup 5m
	$(BIN) eval motion --input $(HIGHWAY) --tracks $(OUT)/highway-frames.jsonl --hours 1 --warmup 5m

# Frame-level anomaly ROC AUC on UCSD Ped2.
eval-ped2: build
	$(BIN) eval ped2 --data ../shared/data/ucsd-ped2

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || (gofmt -l . && exit 1)

fmt:
	gofmt -w .

clean:
	rm -rf bin $(OUT)

# Issue 14: accuracy of the detection plan at 5 fps beside detecting every
# frame: PETS09 MOTA/IDF1 and rule F1 (the rules on each pass's tracks
# against the rules on the ground truth), and wrong-way recall on the
# highway played in reverse against the hand labels.
eval-detplan: setup build
	@mkdir -p $(OUT)/detplan-highway-rev
	$(BIN) bench-detplan $(VTEST) --fps 5 --classes person --gt $(PETS_GT) --tracks-out $(OUT)/detplan-pets
	$(BIN) analyze --tracks-from $(PETS_GT) --seq-fps 10 --scene scenes/pets09-s2l1.yaml --events $(OUT)/pets-gt-alerts.jsonl --progress none
	for p in every-frame policy; do \
	  $(BIN) analyze --tracks-from $(OUT)/detplan-pets/$$p.txt --seq-fps 10 --scene scenes/pets09-s2l1.yaml --events $(OUT)/detplan-pets/$$p-alerts.jsonl --progress none && \
	  echo "== PETS rules, $$p" && $(BIN) eval events --gt $(OUT)/pets-gt-alerts.jsonl --pred $(OUT)/detplan-pets/$$p-alerts.jsonl || exit 1; done
	n=$$(ls $(HIGHWAY) | wc -l); i=1; for f in $$(ls $(HIGHWAY) | sort -r); do \
	  ln -sf $$(realpath $(HIGHWAY)/$$f) $(OUT)/detplan-highway-rev/$$(printf 'in%06d.jpg' $$i); i=$$((i+1)); done
	$(BIN) bench-detplan $(OUT)/detplan-highway-rev --fps 5 --seq-fps 25 --classes vehicle --tracks-out $(OUT)/detplan-highway
	for p in every-frame policy; do \
	  $(BIN) analyze --tracks-from $(OUT)/detplan-highway/$$p.txt --seq-fps 25 --public-dets-class car --scene scenes/cdnet-highway.yaml --events $(OUT)/detplan-highway/$$p-alerts.jsonl --progress none && \
	  echo "== highway reversed, $$p" && $(BIN) eval traffic --labels testdata/highway/vehicles.csv --scene scenes/cdnet-highway.yaml --events $(OUT)/detplan-highway/$$p-alerts.jsonl --reversed || exit 1; done
