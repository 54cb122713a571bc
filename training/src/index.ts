export * from "./backend";
