// Entry point; wired up at integration.
export {};
