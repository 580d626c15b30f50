"""Shared by the plot tests: a fixed model set, its Pareto frontier worked out by hand, the latency fixture."""

from pathlib import Path

LATENCY = str(Path(__file__).resolve().parent / "fixtures" / "latency-cpu-synthetic.json")
# a fixed set across families, each with a torchvision counterpart
SET = ["alexnet", "vgg16", "googlenet", "resnet18", "resnet50", "squeezenet1_1", "mobilenetv2", "efficientnet_b0"]
# worked out by hand from the published top-1 and MACs (README zoo table): mobilenetv2 has the fewest MACs;
# efficientnet_b0 is the next more accurate one, resnet50 the next; every other model has more MACs
# than one of them and a lower top-1 (squeezenet1_1 349M/58.2 vs mobilenetv2 301M/72.2, googlenet 1.50G/69.8
# and resnet18 1.81G/69.8 vs efficientnet_b0 386M/77.7, alexnet 714M/56.5 vs efficientnet_b0,
# vgg16 15.5G/71.6 vs resnet50 4.09G/80.9)
FRONTIER = ["mobilenetv2", "efficientnet_b0", "resnet50"]
