"""The approval engine: flows as data, one engine for every document that needs approval
(R4.1.1, R4.1.2, R6.1.2, R7.1, R7.2.1, R7.2.2). It knows no document type: documents register."""
