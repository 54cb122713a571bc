export * from "./ring/gemm";
