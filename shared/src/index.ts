export * from "./model/types";
