# xipbench chart; redraw with: gnuplot THIS-FILE
set terminal pngcairo noenhanced size 960,1240 font 'sans,10'
set output 'compare.png'
set multiplot layout 4,2 title 'xipbench 2026-11-22T07:13:32Z: median of 5 runs, bars min..max, higher is better; cold by drop_caches'
set style fill solid 0.8 border -1
unset key
set grid ytics
set yrange [0:*]
set offsets 0,0,graph 0.15,0
set xtics rotate by 30 right nomirror
set ytics nomirror
set format y '%.1s%c'
$d0 << EOD
"xipfs_copy" 3159.9 1531.04 3349.79 "3160" 3349.79
"xipfs_splice" 2978.33 2527.68 3229.89 "2978" 3229.89
"xipfs_passthrough" 1415.83 1287.93 4149.98 "1416" 4149.98
"xipfs_uring" 1571.84 1511.01 1605.39 "1572" 1605.39
"squashfuse" 2065.87 2049.04 2110.79 "2066" 2110.79
"erofs" 1300.46 1113.72 2042.81 "1300" 2042.81
"squashfs" 1729.58 1090.49 1748.57 "1730" 1748.57
"tmpfs" 9470.97 8966.07 9590.18 "9471" 9590.18
"direct" 9519.26 9272.65 9667.61 "9519" 9667.61
EOD
set title 'seq 1M, cold (MB/s)'
set xrange [-0.6:8.6]
plot $d0 using 0:2:(0.7):($0+1):xtic(1) with boxes lc variable, \
     $d0 using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0, \
     $d0 using 0:6:5 with labels offset 0,0.7 font ',8'
$d1 << EOD
"xipfs_copy" 57559.8 39366.6 57854.3 "57560" 57854.3
"xipfs_splice" 54782.3 44594.8 56188.9 "54782" 56188.9
"xipfs_passthrough" 51785.8 50837.2 52579.1 "51786" 52579.1
"xipfs_uring" 61037.8 48390.3 66487.6 "61038" 66487.6
"squashfuse" 18739.2 18196.3 19071.5 "18739" 19071.5
"erofs" 54175.5 52441.1 54971.5 "54175" 54971.5
"squashfs" 29570.2 27890.8 30129.9 "29570" 30129.9
"tmpfs" 696749 677695 734705 "696749" 734705
"direct" 730978 564058 758449 "730978" 758449
EOD
set title 'rand 4K, cold (IOPS)'
set xrange [-0.6:8.6]
plot $d1 using 0:2:(0.7):($0+1):xtic(1) with boxes lc variable, \
     $d1 using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0, \
     $d1 using 0:6:5 with labels offset 0,0.7 font ',8'
$d2 << EOD
"xipfs_copy" 161742 142606 174335 "161742" 174335
"xipfs_splice" 151609 131994 163453 "151609" 163453
"xipfs_passthrough" 112234 107441 113750 "112234" 113750
"xipfs_uring" 45606.2 44186.9 46715.9 "45606" 46715.9
"squashfuse" 24655.2 24387.2 25075.8 "24655" 25075.8
"erofs" 117165 101412 118937 "117165" 118937
"squashfs" 51795.8 49232.4 53078.1 "51796" 53078.1
"tmpfs" 372952 339220 383023 "372952" 383023
"direct" 390514 362378 413645 "390514" 413645
EOD
set title 'uring 4K qd32, cold (IOPS)'
set xrange [-0.6:8.6]
plot $d2 using 0:2:(0.7):($0+1):xtic(1) with boxes lc variable, \
     $d2 using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0, \
     $d2 using 0:6:5 with labels offset 0,0.7 font ',8'
$d3 << EOD
"xipfs_copy" 2886.8 2765.08 3038 "2887" 3038
"xipfs_splice" 2726.21 2666.94 2820.31 "2726" 2820.31
"xipfs_passthrough" 1291.68 918.283 1539.31 "1292" 1539.31
"xipfs_uring" 1470.87 1397.56 1480.14 "1471" 1480.14
"squashfuse" 1100.46 1040.89 1164.74 "1100" 1164.74
"erofs" 892.838 831.365 1034.43 "893" 1034.43
"squashfs" 1655.34 1596.62 1734.14 "1655" 1734.14
"tmpfs" 2007.6 1929.71 2009.93 "2008" 2009.93
"direct" 2127.11 2060.54 2159.44 "2127" 2159.44
EOD
set title 'mmap-seq, cold (MB/s)'
set xrange [-0.6:8.6]
plot $d3 using 0:2:(0.7):($0+1):xtic(1) with boxes lc variable, \
     $d3 using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0, \
     $d3 using 0:6:5 with labels offset 0,0.7 font ',8'
$d4 << EOD
"xipfs_copy" 32107.5 30171.4 35797.4 "32108" 35797.4
"xipfs_splice" 30116.7 25627.2 32123.9 "30117" 32123.9
"xipfs_passthrough" 25562.3 17843.8 32075.7 "25562" 32075.7
"xipfs_uring" 25631.5 20973.4 25963.1 "25632" 25963.1
"squashfuse" 14542.7 10556.1 14831.6 "14543" 14831.6
"erofs" 36153.3 30936.8 38677.4 "36153" 38677.4
"squashfs" 29360 28672 31817.3 "29360" 31817.3
"tmpfs" 312366 251345 351036 "312366" 351036
"direct" 330206 322555 378059 "330206" 378059
EOD
set title 'mmap-rand, cold (IOPS)'
set xrange [-0.6:8.6]
plot $d4 using 0:2:(0.7):($0+1):xtic(1) with boxes lc variable, \
     $d4 using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0, \
     $d4 using 0:6:5 with labels offset 0,0.7 font ',8'
$d5 << EOD
"xipfs_copy" 201229 198443 209217 "201229" 209217
"xipfs_splice" 201508 197102 209047 "201508" 209047
"xipfs_passthrough" 203128 199880 206192 "203128" 206192
"xipfs_uring" 211595 198960 215041 "211595" 215041
"squashfuse" 41465.3 41071.5 42363.1 "41465" 42363.1
"erofs" 118748 113390 120075 "118748" 120075
"squashfs" 33927.9 33385.3 34228.9 "33928" 34228.9
"tmpfs" 566298 534283 585188 "566298" 585188
"direct" NaN NaN NaN "n/a" 0
EOD
set title 'walk, cold (entries/s)'
set xrange [-0.6:8.6]
plot $d5 using 0:2:(0.7):($0+1):xtic(1) with boxes lc variable, \
     $d5 using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0, \
     $d5 using 0:6:5 with labels offset 0,0.7 font ',8'
$d6 << EOD
"xipfs_copy" 45275.7 38012.5 46082.9 "45276" 46082.9
"xipfs_splice" 44493.2 43989.4 45723.9 "44493" 45723.9
"xipfs_passthrough" 4442.06 4142.29 4535.84 "4442" 4535.84
"xipfs_uring" 52032.6 45441.1 53983.1 "52033" 53983.1
"squashfuse" 23746 21959.7 24091.2 "23746" 24091.2
"erofs" 86558.2 66494.3 99859.9 "86558" 99859.9
"squashfs" 32129.3 29593.3 32946.4 "32129" 32946.4
"tmpfs" 349739 338982 352757 "349739" 352757
"direct" NaN NaN NaN "n/a" 0
EOD
set title 'open, cold (opens/s)'
set xrange [-0.6:8.6]
plot $d6 using 0:2:(0.7):($0+1):xtic(1) with boxes lc variable, \
     $d6 using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0, \
     $d6 using 0:6:5 with labels offset 0,0.7 font ',8'
$d7 << EOD
"xipfs_copy" 113.482 98.5017 132.113 "113" 132.113
"xipfs_splice" 115.177 109.245 124.269 "115" 124.269
"xipfs_passthrough" 21.7707 20.7137 22.8066 "21.8" 22.8066
"xipfs_uring" 118.348 107.605 139.936 "118" 139.936
"squashfuse" 81.6907 77.3186 86.1121 "81.7" 86.1121
"erofs" 266.357 245.043 286.419 "266" 286.419
"squashfs" 71.4757 70.5944 74.1218 "71.5" 74.1218
"tmpfs" 1162.11 973.313 1242.46 "1162" 1242.46
"direct" NaN NaN NaN "n/a" 0
EOD
set title 'readall, cold (MB/s)'
set xrange [-0.6:8.6]
plot $d7 using 0:2:(0.7):($0+1):xtic(1) with boxes lc variable, \
     $d7 using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0, \
     $d7 using 0:6:5 with labels offset 0,0.7 font ',8'
unset multiplot
