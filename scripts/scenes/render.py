def render(scene, width, height, seed): raise NotImplementedError
