# Copied unchanged from pyacq's repository (pyacq/pyacq), pyacq/core/rpc/tests/test_spawner.py at commit 59c94ef1da5cd04e47cdf97189fcdd2e5208ed0c.
# pyacq: Copyright (c) 2016, French National Center for Scientific Research (CNRS); BSD License.
from pyacq.core.rpc import ProcessSpawner
import os

def test_spawner():
    proc = ProcessSpawner()
    cli = proc.client
    
    # check spawned RPC server has a different PID
    ros = cli._import('os')
    assert os.getpid() != ros.getpid()
    
    # test closing nicely
    proc.stop()
    
    
    # start process with QtRPCServer
    proc = ProcessSpawner(qt=True)
    cli = proc.client

    rqt = cli._import('pyqtgraph.Qt')
    assert rqt.QtGui.QApplication.instance() is not None

    # test closing Qt process
    proc.stop()
    