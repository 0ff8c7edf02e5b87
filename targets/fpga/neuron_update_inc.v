// snncc neurocore/convcore shared datapath (a fragment `include-d inside both engine modules,
// not a module): the arithmetic contract's neuron update (docs/fpga-arithmetic.md).
// Needs the parameters PE, VB, LB, ACCB, LEAK, FRAC, RESET, RESET_VAL, CMP_GE.
// DW holds any intermediate: |v * m| < 2^(VB+LB-2), |vl + acc + b| < 2^(max(VB, ACCB)+1).
    localparam integer DW = (VB + LB > ACCB ? VB + LB : ACCB) + 2;
    localparam signed [DW-1:0] VMAX = {{(DW-VB+1){1'b0}}, {(VB-1){1'b1}}};
    localparam signed [DW-1:0] VMIN = {{(DW-VB+1){1'b1}}, {(VB-1){1'b0}}};
    localparam [31:0] RV32 = RESET_VAL;
    // ---- the contract's neuron update for the PE lanes of group g ----
    // 1 leak, 2-3 synaptic input + bias, 4 saturate, 5 compare, 6 reset
    function [PE+PE*VB-1:0] update_group(input [PE*VB-1:0] vw, input [PE*VB-1:0] tw,
                                         input [PE*VB-1:0] bw, input [PE*LB-1:0] lw,
                                         input [PE*ACCB-1:0] aw);
        integer k;
        reg [VB-1:0] v_u, t_u, b_u;
        reg [LB-1:0] l_u;
        reg [ACCB-1:0] a_u;
        reg signed [DW-1:0] v, th, bi, lp, a, vl, sum, vs, d, vn;
        begin
            for (k = 0; k < PE; k = k + 1) begin
                v_u = vw[k*VB +: VB]; t_u = tw[k*VB +: VB]; b_u = bw[k*VB +: VB];
                l_u = lw[k*LB +: LB]; a_u = aw[k*ACCB +: ACCB];
                v  = {{(DW-VB){v_u[VB-1]}}, v_u};
                th = {{(DW-VB){t_u[VB-1]}}, t_u};
                bi = {{(DW-VB){b_u[VB-1]}}, b_u};
                lp = {{(DW-LB){l_u[LB-1]}}, l_u};
                a  = {{(DW-ACCB){a_u[ACCB-1]}}, a_u};
                if (LEAK == 1) vl = v - (v >>> l_u);
                else if (LEAK == 2) vl = (v * lp) >>> FRAC;
                else vl = v;
                sum = vl + a + bi;
                vs = sum > VMAX ? VMAX : (sum < VMIN ? VMIN : sum);
                update_group[PE*VB + k] = CMP_GE != 0 ? vs >= th : vs > th;
                d = vs - th;
                vn = vs;
                if (update_group[PE*VB + k]) begin
                    if (RESET == 0) vn = {{(DW-VB){RV32[VB-1]}}, RV32[VB-1:0]};
                    else if (RESET == 1) vn = d > VMAX ? VMAX : (d < VMIN ? VMIN : d);
                end
                update_group[k*VB +: VB] = vn[VB-1:0];
            end
        end
    endfunction
    function [PE*VB-1:0] v_part(input [PE+PE*VB-1:0] u);
        v_part = u[PE*VB-1:0];
    endfunction
    function [PE-1:0] s_part(input [PE+PE*VB-1:0] u);
        s_part = u[PE*VB +: PE];
    endfunction
