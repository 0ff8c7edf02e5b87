`timescale 1ns / 1ps
// snncc: queue write positions for N producer lanes. Lane k writes at base plus the
// number of set bits before it; the last slot is the new queue length. Shared by the
// event queues of neurocore (feed-forward and own spikes) and convcore.
module prefix_positions #(
    parameter N = 1,   // producer lanes
    parameter W = 1    // position width
) (
    input  wire [W-1:0]         base,
    input  wire [N-1:0]         bits,
    output reg  [(N+1)*W-1:0]   pos
);
    integer k;
    reg [31:0] n;
    always @* begin
        n = {{(32-W){1'b0}}, base};
        for (k = 0; k < N; k = k + 1) begin
            pos[k*W +: W] = n[W-1:0];
            n = n + {31'd0, bits[k]};
        end
        pos[N*W +: W] = n[W-1:0];
    end
endmodule
