// Conversations, grounded answers with citations, traces and the answer cache (issue #5).
export {};
