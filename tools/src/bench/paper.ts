/**
 * Numbers copied from the paper (Dong et al., "CBNN: 3-Party Secure Framework
 * for Customized Binary Neural Networks Inference", section 4, Tables 1-3;
 * /work/shared/paper/cbnn-paper.md). Times in seconds per image, Comm. in MB,
 * accuracy in %. null where the paper prints "-". Measured by the paper's
 * authors on three 14-vCPU servers, not here.
 */
export interface PaperRow {
  arch: string;
  framework: string;
  timeLanS: number | null;
  timeWanS: number | null;
  commMB: number;
  accPct: number;
  params?: number;
}

export const PAPER_CITATION =
  "Dong et al., CBNN: 3-Party Secure Framework for Customized Binary Neural Networks Inference";

/** Table 1 (MNIST): the CBNN, SecureBiNN and Falcon rows. */
export const PAPER_TABLE1: PaperRow[] = [
  {
    arch: "mnistnet1",
    framework: "Falcon",
    timeLanS: 0.011,
    timeWanS: 0.99,
    commMB: 0.012,
    accPct: 97.4,
  },
  {
    arch: "mnistnet1",
    framework: "SecureBiNN",
    timeLanS: 0.01,
    timeWanS: 0.248,
    commMB: 0.005,
    accPct: 97.3,
  },
  {
    arch: "mnistnet1",
    framework: "CBNN",
    timeLanS: 0.01,
    timeWanS: 0.21,
    commMB: 0.01,
    accPct: 98.11,
  },
  {
    arch: "mnistnet2",
    framework: "Falcon",
    timeLanS: 0.009,
    timeWanS: 0.76,
    commMB: 0.049,
    accPct: 97.8,
  },
  {
    arch: "mnistnet2",
    framework: "SecureBiNN",
    timeLanS: 0.007,
    timeWanS: 0.44,
    commMB: 0.032,
    accPct: 97.2,
  },
  {
    arch: "mnistnet2",
    framework: "CBNN",
    timeLanS: 0.01,
    timeWanS: 0.32,
    commMB: 0.033,
    accPct: 98.3,
  },
  {
    arch: "mnistnet3",
    framework: "Falcon",
    timeLanS: 0.042,
    timeWanS: 3.0,
    commMB: 0.51,
    accPct: 98.6,
  },
  {
    arch: "mnistnet3",
    framework: "SecureBiNN",
    timeLanS: 0.02,
    timeWanS: 1.15,
    commMB: 0.357,
    accPct: 98.4,
  },
  {
    arch: "mnistnet3",
    framework: "CBNN",
    timeLanS: 0.015,
    timeWanS: 0.97,
    commMB: 0.37,
    accPct: 99.0,
  },
];

/** Table 2 (CIFAR-10): typical BNN vs CifarNet2 (separable), both distilled from VGG16. */
export const PAPER_TABLE2: PaperRow[] = [
  {
    arch: "cifarnet2-typical",
    framework: "CBNN",
    timeLanS: 0.532,
    timeWanS: 3.12,
    commMB: 12.58,
    accPct: 83.52,
    params: 383_858,
  },
  {
    arch: "cifarnet2",
    framework: "CBNN",
    timeLanS: 0.311,
    timeWanS: 0.871,
    commMB: 8.29,
    accPct: 81.53,
    params: 67_949,
  },
];

/** Table 3 (CIFAR-10): prior work and CBNN. */
export const PAPER_TABLE3: PaperRow[] = [
  {
    arch: "cifar10",
    framework: "MiniONN",
    timeLanS: 544,
    timeWanS: null,
    commMB: 9272,
    accPct: 81.61,
  },
  {
    arch: "cifar10",
    framework: "Chameleon",
    timeLanS: 52.67,
    timeWanS: null,
    commMB: 2650,
    accPct: 81.61,
  },
  {
    arch: "cifar10",
    framework: "EzPC",
    timeLanS: 265.6,
    timeWanS: null,
    commMB: 40683,
    accPct: 81.61,
  },
  {
    arch: "cifar10",
    framework: "Gazelle",
    timeLanS: 15.48,
    timeWanS: null,
    commMB: 1236,
    accPct: 81.61,
  },
  {
    arch: "cifar10",
    framework: "XONN",
    timeLanS: 5.79,
    timeWanS: null,
    commMB: 2599,
    accPct: 81.85,
  },
  {
    arch: "cifar10",
    framework: "Falcon",
    timeLanS: 0.79,
    timeWanS: 1.27,
    commMB: 13.51,
    accPct: 81.61,
  },
  {
    arch: "cifar10",
    framework: "SecureBiNN",
    timeLanS: 0.527,
    timeWanS: 3.447,
    commMB: 16.609,
    accPct: 81.5,
  },
  {
    arch: "cifar10",
    framework: "CBNN",
    timeLanS: 0.311,
    timeWanS: 0.871,
    commMB: 8.291,
    accPct: 81.53,
  },
];
