`timescale 1ns / 1ps
// snncc: queue writes for N producer lanes. Lane k writes at base plus the number of set
// bits before it (the last slot is the new queue length), and its event index is
// first + k * STRIDE. Shared by the event queues of neurocore (feed-forward and own
// spikes) and convcore.
module prefix_positions #(
    parameter N = 1,       // producer lanes
    parameter W = 1,       // position width
    parameter IW = 1,      // index width
    parameter STRIDE = 1   // index distance between lanes
) (
    input  wire [W-1:0]         base,
    input  wire [N-1:0]         bits,
    input  wire [IW-1:0]        first,
    output reg  [(N+1)*W-1:0]   pos,
    output reg  [N*IW-1:0]      idx
);
    integer k;
    reg [31:0] n;
    /* verilator lint_off UNUSEDSIGNAL */
    reg [31:0] e;                // a wide index, sliced to IW
    /* verilator lint_on UNUSEDSIGNAL */
    always @* begin
        n = {{(32-W){1'b0}}, base};
        for (k = 0; k < N; k = k + 1) begin
            pos[k*W +: W] = n[W-1:0];
            n = n + {31'd0, bits[k]};
            e = {{(32-IW){1'b0}}, first} + k * STRIDE;
            idx[k*IW +: IW] = e[IW-1:0];
        end
        pos[N*W +: W] = n[W-1:0];
    end
endmodule
