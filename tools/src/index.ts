export * from "./bench/index";
