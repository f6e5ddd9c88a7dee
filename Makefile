# Vigil — common tasks. `make run` and `make test` work on a fresh Debian
# machine: both call `make setup` first, which installs what is missing.

VTEST   := /usr/share/doc/opencv-doc/examples/data/vtest.avi
PETS_GT := ../shared/data/mot/PETS09-S2L1/gt.txt
OUT     := out
BIN     := bin/vigil
GO      ?= go

.PHONY: all setup build run test test-short bench eval-pets eval-public vet fmt clean

all: build

setup:
	@scripts/setup.sh

build:
	$(GO) build -o $(BIN) ./cmd/vigil

# Analyse the bundled sample footage: annotated video, MOT tracks, JSON lines.
run: setup build
	@mkdir -p $(OUT)
	$(BIN) analyze $(VTEST) --classes person,vehicle,carried \
		--video $(OUT)/vtest-annotated.mp4 --mot $(OUT)/vtest-tracks.txt --jsonl $(OUT)/vtest-frames.jsonl

# Every test, with the race detector.
test: setup
	$(GO) vet ./...
	$(GO) test -race -timeout 20m ./...

test-short:
	$(GO) test -short ./...

bench: setup build
	$(BIN) bench $(VTEST) --frames 0
	$(GO) test -run XXX -bench . -benchtime 2s ./internal/track/ ./internal/assign/ ./internal/detect/...

# Full pipeline on PETS09-S2L1 (vtest.avi) scored against its ground truth.
eval-pets: setup build
	@mkdir -p $(OUT)
	$(BIN) analyze $(VTEST) --classes person --mot $(OUT)/pets-tracks.txt --progress none
	$(BIN) eval mot --gt $(PETS_GT) --pred $(OUT)/pets-tracks.txt

# The tracker alone on public Faster R-CNN detections (evaluation-only data).
eval-public: build
	@mkdir -p $(OUT)
	$(BIN) analyze --public-dets ../shared/data/mot/TUD-Campus/det-frcnn.txt --seq-fps 25 --track-high 0.7 --track-new 0.8 --mot $(OUT)/tud-frcnn.txt --progress none
	$(BIN) eval mot --gt ../shared/data/mot/TUD-Campus/gt.txt --pred $(OUT)/tud-frcnn.txt
	$(BIN) analyze --public-dets ../shared/data/mot/PETS09-S2L1/det-frcnn.txt --seq-fps 7 --track-high 0.7 --track-new 0.8 --mot $(OUT)/pets-frcnn.txt --progress none
	$(BIN) eval mot --gt $(PETS_GT) --pred $(OUT)/pets-frcnn.txt

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || (gofmt -l . && exit 1)

fmt:
	gofmt -w .

clean:
	rm -rf bin $(OUT)
