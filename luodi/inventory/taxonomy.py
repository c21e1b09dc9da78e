"""Industry-field taxonomy (产业领域): where every achievement and demand is filed.

The seed starts from the priority fields of Beijing's 15th Five-Year Plan for science and
technology and adds broad non-priority fields so that every record has a home: 现代农业与食品,
先进制造与工程, 人文社科与管理 (软科学) and 其他 (basic and earth sciences, anything else). Each
field carries 30–80 seed keywords in Chinese and in English, written from general domain
knowledge; enrichment builds its field profiles from them alone.

Configuration — ``load_taxonomy(path)`` reads a TOML (``.toml``) or JSON (any other suffix) file::

    [fields.ai]                      # an existing code: only the keys given change
    name_zh = "人工智能与大模型"        # rename
    add_keywords_zh = ["具身大模型"]   # append to the seed keywords (also add_keywords_en)

    [fields.quantum]
    enabled = false                  # drop the field ("other" cannot be dropped)

    [fields.low_altitude]            # a new code: name_zh and name_en are required
    name_zh = "低空经济"
    name_en = "Low-altitude economy"
    priority = true
    keywords_zh = ["低空经济", "无人机物流"]   # replaces the list (also keywords_en)
    keywords_en = ["low-altitude economy", "evtol", "drone delivery"]

The JSON form is the same tree: ``{"fields": {"ai": {"name_zh": "…"}, …}}``. Codes are
lowercase ``[a-z][a-z0-9_]*``. Field order is the seed's, new fields follow in file order, ``other``
stays last.
Bad files raise :class:`luodi.errors.ValidationFailed` naming the offending key.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from luodi.errors import ValidationFailed

__all__ = [
    "FALLBACK_CODE", "SEED_FIELDS", "Field", "Taxonomy", "active_taxonomy", "load_taxonomy",
    "seed_taxonomy", "use_taxonomy",
]

FALLBACK_CODE = "other"
_CODE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
_ALLOWED_KEYS = frozenset(
    {"name_zh", "name_en", "priority", "enabled", "keywords_zh", "keywords_en",
     "add_keywords_zh", "add_keywords_en"}
)


@dataclass(frozen=True)
class Field:
    """One industry field: a stable code, names, plan-priority flag and seed keywords."""

    code: str
    name_zh: str
    name_en: str
    priority: bool
    keywords_zh: tuple[str, ...] = ()
    keywords_en: tuple[str, ...] = ()

    @property
    def terms(self) -> tuple[str, ...]:
        """Return names and keywords in both languages: what the field's profile is built from."""
        return (self.name_zh, self.name_en, *self.keywords_zh, *self.keywords_en)


@dataclass(frozen=True)
class Taxonomy:
    """An ordered, immutable set of fields (hashable, so derived models can be cached on it)."""

    fields: tuple[Field, ...]

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    def __contains__(self, code: object) -> bool:
        return any(field.code == code for field in self.fields)

    @property
    def codes(self) -> tuple[str, ...]:
        """Return the field codes in display order."""
        return tuple(field.code for field in self.fields)

    def get(self, code: str) -> Field:
        """Return the field with ``code``; raise ``ValidationFailed`` for an unknown code."""
        for field in self.fields:
            if field.code == code:
                return field
        raise ValidationFailed(f"unknown industry field: {code}", data={"field": code})


def _zh(words: str) -> tuple[str, ...]:
    # Chinese keywords never contain spaces, so whitespace separates them compactly.
    return tuple(words.split())


def _en(words: str) -> tuple[str, ...]:
    # English keywords may be phrases, so commas separate them.
    return tuple(w.strip() for w in words.split(",") if w.strip())


SEED_FIELDS: tuple[Field, ...] = (
    Field("ai", "人工智能", "Artificial intelligence", True, _zh("""
        人工智能 机器学习 深度学习 神经网络 卷积神经网络 循环神经网络 大模型 大语言模型 预训练模型
        生成式人工智能 自然语言处理 计算机视觉 图像识别 目标检测 语音识别 语音合成 知识图谱
        强化学习 迁移学习 联邦学习 注意力机制 智能体 多模态 文本分类 情感分析 机器翻译 人脸识别
        图像分割 特征提取 模式识别 数据挖掘 智能决策 算力 人工智能芯片 训练数据 数据标注 模型压缩
        边缘智能 智能问答 对话系统 支持向量机 分类器 遗传算法 粒子群算法 专家系统 模糊推理 异常检测
        语义理解 表示学习 生成对抗网络 扩散模型 推荐系统 智能算法 无监督学习 自监督学习 视觉识别
        """), _en("""
        artificial intelligence, machine learning, deep learning, neural network,
        convolutional neural network, recurrent neural network, transformer, large language model,
        foundation model, pretrained model, generative ai, natural language processing,
        computer vision, image recognition, object detection, speech recognition, speech synthesis,
        knowledge graph, reinforcement learning, transfer learning, federated learning,
        attention mechanism, intelligent agent, multimodal, text classification,
        sentiment analysis, machine translation, face recognition, image segmentation,
        feature extraction, pattern recognition, data mining, ai chip, neural processing unit,
        training data, data annotation, model compression, edge ai, question answering, chatbot,
        support vector machine, classifier, genetic algorithm, expert system, fuzzy logic,
        anomaly detection, predictive analytics, cognitive, semantic, embedding,
        recommender system, autonomous reasoning, unsupervised learning, self-supervised learning
        """)),
    Field("ic_it", "集成电路与新一代信息技术", "Integrated circuits and next-generation IT", True,
          _zh("""
        集成电路 芯片设计 半导体 晶圆 光刻 光刻胶 刻蚀 封装测试 先进封装 存储器 处理器 微处理器
        可编程逻辑器件 模拟电路 射频芯片 功率器件 碳化硅 氮化镓 晶体管 电子设计自动化 微机电系统
        微电子 软件 操作系统 数据库 云计算 大数据 物联网 区块链 边缘计算 工业互联网 网络安全
        信息安全 密码算法 加密 数字孪生 分布式系统 服务器 数据中心 通信协议 无线通信 光通信 光纤
        信号处理 嵌入式 电路设计 印制电路板 显示面板 激光器 光电子 光电探测器 调制解调 编码 天线
        计算机 虚拟现实 增强现实 信息系统 电子器件 传感器 无线传感网络 5G 通信网络 图像处理
        移动通信 基站 毫米波 多输入多输出 信道估计
        """), _en("""
        integrated circuit, semiconductor, chip design, wafer, lithography, photoresist, etching,
        chip packaging, memory chip, dram, flash memory, processor, microprocessor, fpga, asic,
        analog circuit, rf circuit, power device, silicon carbide, gallium nitride, transistor,
        mosfet, cmos, electronic design automation, mems, microelectronics, software,
        operating system, database, cloud computing, big data, internet of things, blockchain,
        edge computing, industrial internet, cybersecurity, network security, encryption,
        cryptography, digital twin, distributed system, server, data center,
        communication protocol, wireless communication, optical communication, optical fiber, 5g,
        signal processing, embedded system, circuit, printed circuit board, display, oled, laser,
        photonics, optoelectronic, photodetector, modulation, antenna, computer, virtual reality,
        augmented reality, information system, electronic, sensor network, image processing,
        mobile communication, base station, millimeter wave, mimo, channel estimation
        """)),
    Field("health", "医药健康", "Medicine and health", True, _zh("""
        医药 药物 新药 创新药 药物递送 制剂 靶点 抗体 单克隆抗体 疫苗 细胞治疗 基因治疗 干细胞
        医疗器械 诊断试剂 体外诊断 医学影像 核磁共振 超声诊断 内窥镜 植入物 血管支架 临床试验 临床
        患者 病人 治疗 疗效 诊断 肿瘤 癌症 糖尿病 心血管 高血压 感染 炎症 病毒 细菌 抗菌 中医 中药
        针灸 方剂 辨证 药理 药代动力学 毒理 护理 康复 公共卫生 流行病学 疾病 手术 医院 口腔 牙周
        生物标志物 血清 免疫 小分子药物 中药材 并发症 预后 病例 小鼠 大鼠 细胞凋亡 病理 免疫组化
        对照组 信号通路 抑制剂 受体 肝脏 肾脏 心肌 肺 神经元 血管内皮 细胞增殖
        """), _en("""
        drug, pharmaceutical, medicine, medical, clinical, clinical trial, patient, therapy,
        therapeutic, treatment, diagnosis, diagnostic, disease, cancer, tumor, diabetes,
        cardiovascular, hypertension, infection, inflammation, virus, bacteria, antibacterial,
        vaccine, antibody, monoclonal antibody, cell therapy, gene therapy, stem cell,
        medical device, in vitro diagnostic, medical imaging, mri, ultrasound imaging, endoscope,
        surgical, surgery, implant, stent, prosthesis, catheter, drug delivery, formulation,
        pharmacology, pharmacokinetics, toxicology, nursing, rehabilitation, public health,
        epidemiology, hospital, dental, biomarker, health, blood, immune, peptide, telemedicine,
        traditional chinese medicine, physiological monitoring, apoptosis, prognosis, pathology,
        immunohistochemistry, control group, signaling pathway, inhibitor, receptor, liver, kidney,
        myocardial, lung, neuron, cell proliferation
        """)),
    Field("space_net", "空天地一体化网络", "Space-air-ground integrated network", True, _zh("""
        空天地一体化 卫星互联网 卫星通信 低轨卫星 卫星星座 星间链路 6G 天地一体化 卫星导航 北斗
        全球导航卫星系统 定位 导航 授时 遥感 遥感影像 地面站 信关站 高通量卫星 星载 天线阵列 相控阵
        太赫兹 通感一体化 无人机通信 高空平台 非地面网络 频谱 星地融合 组网 路由 链路 波束成形
        星载处理 通信卫星 空间信息网络 应急通信 海事通信 卫星遥感 合成孔径雷达 雷达 测绘
        地理信息系统 空间信息 精密定位 星地链路 频谱共享 干扰抑制
        """), _en("""
        space-air-ground integrated network, satellite internet, satellite communication,
        leo satellite, low earth orbit, satellite constellation, inter-satellite link, 6g,
        non-terrestrial network, satellite navigation, gnss, gps, beidou, positioning, navigation,
        timing, remote sensing, ground station, gateway station, high-throughput satellite,
        phased array, beamforming, terahertz, integrated sensing and communication,
        uav communication, high altitude platform, spectrum, satellite-terrestrial integration,
        networking, routing, link budget, onboard processing, communications satellite,
        emergency communication, synthetic aperture radar, radar, geospatial,
        geographic information
        system, mapping, geolocation, ka-band, ku-band, downlink,
        uplink, transponder, interference mitigation
        """)),
    Field("ev_auto", "智能网联新能源汽车与自动驾驶",
          "Intelligent connected NEVs and autonomous driving", True, _zh("""
        新能源汽车 电动汽车 纯电动 混合动力 插电式混合动力 燃料电池汽车 动力电池 电池管理系统
        驱动电机 电驱动 电机控制器 充电桩 充电 换电 智能网联汽车 自动驾驶 无人驾驶 辅助驾驶
        高级驾驶辅助系统 车联网 车路协同 激光雷达 毫米波雷达 车载 整车 底盘 线控 转向 制动 悬架
        车辆 汽车 车道保持 行人检测 交通标志识别 轨迹预测 决策规划 高精地图 车规级 智能座舱 热管理
        续航里程 轮毂电机 能量回收 驾驶员 车辆动力学 动力总成 汽车电子 泊车
        """), _en("""
        new energy vehicle, electric vehicle, battery electric vehicle, hybrid electric vehicle,
        plug-in hybrid, fuel cell vehicle, traction battery, battery management system,
        drive motor, electric drive, motor controller, charging station, charging,
        battery swapping, connected vehicle, intelligent connected vehicle, autonomous driving,
        self-driving, driverless, advanced driver assistance, adas, vehicle-to-everything, v2x,
        vehicle-road cooperation, lidar, automotive radar, in-vehicle, chassis, steer-by-wire,
        brake-by-wire, steering, braking, suspension, vehicle, automobile, automotive, car,
        lane keeping, pedestrian detection, trajectory prediction, high-definition map,
        smart cockpit, thermal management, driving range, in-wheel motor, regenerative braking,
        driver, vehicle dynamics, powertrain, parking
        """)),
    Field("robotics", "机器人与具身智能", "Robotics and embodied intelligence", True, _zh("""
        机器人 具身智能 人形机器人 工业机器人 服务机器人 协作机器人 移动机器人 四足机器人 机械臂
        机械手 灵巧手 末端执行器 夹爪 抓取 运动规划 轨迹规划 逆运动学 运动学 伺服 减速器 谐波减速器
        关节 力控制 力矩传感器 触觉传感器 视觉伺服 同步定位与建图 避障 自主导航 外骨骼 手术机器人
        康复机器人 特种机器人 巡检机器人 水下机器人 仿生 软体机器人 人机交互 人机协作 遥操作 示教
        控制器 自适应控制 滑模控制 鲁棒控制 无人机 无人系统 集群 步态 执行器
        """), _en("""
        robot, robotics, embodied intelligence, embodied ai, humanoid robot, industrial robot,
        service robot, collaborative robot, cobot, mobile robot, quadruped, legged robot,
        manipulator, robotic arm, gripper, end effector, dexterous hand, grasping, motion planning,
        trajectory planning, inverse kinematics, kinematics, servo, actuator, harmonic drive,
        robot joint, force control, torque sensor, tactile sensor, visual servoing, slam,
        obstacle avoidance, autonomous navigation, exoskeleton, rehabilitation robot,
        inspection robot, underwater robot, rover, bionic, biomimetic, soft robot,
        human-robot interaction, teleoperation, controller, pid control, adaptive control,
        sliding mode control, robust control, unmanned aerial vehicle, drone, swarm, locomotion,
        telerobotic, gait
        """)),
    Field("quantum", "量子", "Quantum science and technology", True, _zh("""
        量子 量子计算 量子计算机 量子比特 超导量子 离子阱 光量子 量子纠缠 纠缠 量子态 量子通信
        量子密钥分发 量子隐形传态 量子密码 后量子密码 量子精密测量 量子传感 原子钟 冷原子 原子干涉
        磁力计 量子点 量子霍尔 拓扑 超导 约瑟夫森结 单光子 光子 退相干 量子纠错 量子算法 量子模拟
        量子网络 量子中继 自旋 波函数 哈密顿量 量子力学 量子调控 激光冷却 光晶格 相干 量子信息
        玻色-爱因斯坦凝聚 压缩态
        """), _en("""
        quantum, quantum computing, quantum computer, qubit, superconducting qubit, ion trap,
        trapped ion, photonic quantum, entanglement, quantum state, quantum communication,
        quantum key distribution, qkd, quantum teleportation, quantum cryptography,
        post-quantum cryptography, quantum metrology, quantum sensing, atomic clock, cold atom,
        atom interferometry, magnetometer, quantum dot, quantum hall, topological,
        superconductivity, superconducting, josephson junction, single photon, photon, decoherence,
        quantum error correction, quantum algorithm, quantum simulation, quantum network,
        quantum repeater, spin, wave function, hamiltonian, quantum mechanics, coherence,
        laser cooling, optical lattice, quantum information, squeezed light,
        bose-einstein condensate
        """)),
    Field("commercial_space", "商业航天", "Commercial space", True, _zh("""
        商业航天 航天 运载火箭 火箭 可重复使用火箭 火箭发动机 液体火箭发动机 固体火箭 推进剂
        液氧甲烷 发射 发射场 卫星 小卫星 立方星 卫星平台 有效载荷 航天器 飞行器 轨道 姿态控制
        在轨服务 空间站 深空探测 月球 火星 太空 再入 热防护 整流罩 贮箱 飞行控制 制导 航空 飞机
        航空发动机 气动 风洞 空间环境 微重力 太阳翼 推力器 电推进 测控 返回舱 空间碎片 宇航
        高超声速
        """), _en("""
        commercial space, spaceflight, launch vehicle, rocket, reusable rocket, rocket engine,
        liquid rocket engine, solid rocket motor, propellant, propulsion, launch, launch site,
        satellite, small satellite, cubesat, smallsat, satellite bus, payload, spacecraft, orbit,
        orbital, attitude control, on-orbit servicing, space station, deep space exploration,
        lunar, moon, mars, planetary exploration, space, reentry, thermal protection, fairing,
        cryogenic tank, flight control, guidance, aerospace, aircraft, aeronautics, aerodynamic,
        wind tunnel, space environment, microgravity, solar array, thruster, electric propulsion,
        astronaut, space debris, in-space manufacturing, launch pad, hypersonic, telemetry,
        tracking and command
        """)),
    Field("synbio", "合成生物", "Synthetic biology", True, _zh("""
        合成生物学 合成生物 基因编辑 基因工程 代谢工程 底盘细胞 底盘微生物 工程菌 微生物发酵 发酵
        生物制造 生物合成 酶工程 蛋白质工程 定向进化 基因线路 启动子 质粒 载体构建 大肠杆菌 酵母
        酿酒酵母 枯草芽孢杆菌 细胞工厂 生物催化 生物基 生物降解 基因合成 基因组 转录组 蛋白质组
        组学 测序 高通量筛选 菌株 突变体 基因表达 重组蛋白 生物反应器 代谢通路 天然产物 生物传感器
        无细胞 分子生物学 核酸 转基因 克隆 微生物
        """), _en("""
        synthetic biology, gene editing, crispr, genetic engineering, metabolic engineering,
        chassis cell, engineered strain, fermentation, biomanufacturing, biosynthesis,
        enzyme engineering, enzyme, protein engineering, directed evolution, genetic circuit,
        promoter, plasmid, vector construction, escherichia coli, yeast, saccharomyces cerevisiae,
        bacillus subtilis, cell factory, biocatalysis, biocatalyst, bio-based, biodegradable,
        dna synthesis, genome, transcriptome, proteomics, omics, sequencing,
        high-throughput screening, strain, mutant, gene expression, recombinant protein,
        bioreactor, metabolic pathway, natural product, biosensor, cell-free, microorganism,
        microbial, molecular biology, nucleic acid, transgenic, cloning
        """)),
    Field("materials", "新材料", "Advanced materials", True, _zh("""
        新材料 复合材料 纳米材料 纳米 石墨烯 碳纳米管 碳纤维 陶瓷 高分子 聚合物 树脂 涂层 薄膜 合金
        高温合金 钛合金 铝合金 镁合金 不锈钢 金属材料 超导材料 磁性材料 稀土 功能材料 半导体材料
        光学材料 生物材料 智能材料 形状记忆 气凝胶 多孔材料 晶体 单晶 微观结构 显微组织 力学性能
        拉伸强度 硬度 韧性 疲劳 腐蚀 耐腐蚀 热处理 烧结 粉末冶金 增材制造 3D打印 冶金 冶炼 电镀
        焊接 表面改性 纤维 纺织 织物 相变 晶粒 化工 精细化工 聚合 橡胶 玻璃
        """), _en("""
        advanced material, composite, nanomaterial, nanoparticle, graphene, carbon nanotube,
        carbon fiber, ceramic, polymer, resin, coating, thin film, alloy, superalloy,
        titanium alloy, aluminum alloy, magnesium alloy, steel, stainless steel, metal,
        superconducting material, magnetic material, rare earth, functional material,
        semiconductor material, optical material, biomaterial, smart material, shape memory,
        aerogel, porous material, crystal, single crystal, microstructure, mechanical property,
        tensile strength, hardness, toughness, fatigue, corrosion, heat treatment, sintering,
        powder metallurgy, additive manufacturing, 3d printing, metallurgy, smelting,
        electroplating, welding, surface modification, fiber, textile, fabric, insulation,
        polyimide, foam, adhesive, nanostructure, chemical engineering, rubber, glass
        """)),
    Field("energy_env", "新能源与节能环保", "New energy, energy saving and environment", True,
          _zh("""
        新能源 可再生能源 太阳能 光伏 太阳能电池 钙钛矿 风能 风电 风力发电 储能 锂离子电池 锂电池
        固态电池 钠离子电池 液流电池 超级电容器 电池 电极 正极材料 负极材料 电解液 氢能 制氢 电解水
        燃料电池 储氢 地热 生物质能 核能 核电 智能电网 电网 微电网 节能 能效 余热回收 碳中和 碳达峰
        碳捕集 碳排放 减排 环保 环境 污染 大气污染 水污染 土壤污染 污水处理 废水 污泥 固体废物 垃圾
        脱硫 脱硝 重金属 吸附 降解 催化剂 光催化 生态修复 环境监测 水质 雾霾 温室气体 资源化
        回收利用 清洁能源 电力系统 生态系统 生物多样性 植被
        """), _en("""
        renewable energy, new energy, solar energy, photovoltaic, solar cell, perovskite,
        wind energy, wind power, wind turbine, energy storage, lithium-ion battery,
        lithium battery, solid-state battery, sodium-ion battery, flow battery, supercapacitor,
        battery, electrode, cathode, anode, electrolyte, hydrogen, hydrogen production,
        water electrolysis, fuel cell, hydrogen storage, geothermal, biomass energy,
        nuclear energy, nuclear power, smart grid, power grid, microgrid, energy saving,
        energy efficiency, waste heat recovery, carbon neutrality, carbon capture, carbon emission,
        emission reduction, environmental protection, environment, pollution, air pollution,
        water pollution, soil contamination, wastewater treatment, sewage, sludge, solid waste,
        desulfurization, denitrification, heavy metal, adsorption, degradation, catalyst,
        photocatalysis, ecological restoration, environmental monitoring, water quality,
        greenhouse gas, recycling, clean energy, power system, remediation, ecosystem,
        biodiversity, vegetation
        """)),
    Field("agri_food", "现代农业与食品", "Modern agriculture and food", False, _zh("""
        农业 智慧农业 种植 栽培 作物 水稻 小麦 玉米 大豆 油菜 棉花 蔬菜 果树 果实 品种 育种 种子
        种质资源 产量 品质 施肥 肥料 土壤肥力 灌溉 病虫害 植物保护 农药 杂草 畜牧 养殖 畜禽 生猪
        奶牛 饲料 兽医 兽药 水产 水产养殖 鱼类 对虾 渔业 林业 森林 林木 苗木 园艺 茶叶 食用菌
        设施农业 温室 农机 农产品 食品 食品加工 食品安全 保鲜 贮藏 发酵食品 营养 营养成分 感官评价
        乳制品 肉制品 淀粉 食品添加剂 饮料 抗旱 耐盐 抗逆性 光合作用 叶片 根系 籽粒 株高 分子育种
        病原菌 真菌病害 仔猪 肉鸡
        """), _en("""
        agriculture, smart farming, precision agriculture, cultivation, crop, rice, wheat, maize,
        corn, soybean, rapeseed, cotton, vegetable, fruit tree, fruit, cultivar, breeding, seed,
        germplasm, yield, grain quality, fertilization, fertilizer, soil fertility, irrigation,
        pest, disease resistance, plant protection, pesticide, weed, livestock, animal husbandry,
        poultry, swine, pig, dairy cow, cattle, feed, veterinary, aquaculture, fish, shrimp,
        fishery, forestry, forest, tree, seedling, horticulture, tea, mushroom, greenhouse,
        agricultural machinery, agricultural product, food, food processing, food safety,
        preservation, storage, shelf life, nutrition, flavor, sensory evaluation, dairy, meat,
        starch, food additive, beverage, drought tolerance, salt tolerance, photosynthesis, leaf,
        root system, grain, plant height, molecular breeding, pathogen, fungal disease, broiler
        """)),
    Field("advanced_mfg", "先进制造与工程", "Advanced manufacturing and engineering", False, _zh("""
        智能制造 先进制造 数控机床 机床 切削 磨削 铣削 模具 精密加工 装备 机械 机械设计 齿轮 轴承
        传动 液压 振动 故障诊断 有限元 结构设计 土木工程 建筑 混凝土 钢结构 桥梁 隧道 地基 基坑
        岩土 边坡 路基 路面 沥青 公路 铁路 高速铁路 轨道交通 地铁 交通运输 交通工程 港口 航道 船舶
        海洋工程 水利 大坝 水电站 管道 石油 天然气 油气田 钻井 采油 煤矿 矿山 采矿 锅炉 汽轮机 燃烧
        传热 换热器 热力 发动机 施工 工程管理 生产线 流体力学 数值模拟 应力 应变 爆破 弹药 火炮
        围岩 岩体 岩石力学
        """), _en("""
        intelligent manufacturing, advanced manufacturing, cnc machine tool, machine tool,
        machining, cutting, grinding, milling, mold, precision machining, equipment, mechanical,
        mechanical design, gear, bearing, transmission, hydraulic, pneumatic, vibration,
        fault diagnosis, finite element, structural design, civil engineering, building, concrete,
        steel structure, bridge, tunnel, foundation, excavation, geotechnical, slope, subgrade,
        pavement, asphalt, highway, railway, high-speed rail, rail transit, subway, transportation,
        traffic engineering, port, waterway, ship, offshore engineering, hydraulic engineering,
        dam, hydropower, pipeline, petroleum, natural gas, oil field, drilling, oil recovery,
        coal mine, mining, boiler, steam turbine, combustion, heat transfer, heat exchanger,
        thermal, engine, construction, production line, fluid dynamics, numerical simulation,
        stress, strain, fastener, tool, ordnance, rock mechanics, surrounding rock, rock mass
        """)),
    Field("social", "人文社科与管理", "Humanities, social sciences and management", False, _zh("""
        管理 政策 治理 政府 公共管理 公共服务 社会 社区 文化 历史 哲学 马克思主义 思想 伦理 法律
        法规 法治 立法 司法 法院 诉讼 权利 经济 经济增长 金融 市场 企业管理 企业 产业政策 营销
        消费者 投资 财政 税收 贸易 区域经济 城镇化 乡村振兴 教育 教学 课程 学生 高校 人才培养 教师
        体育 运动员 运动训练 心理 心理健康 语言 文学 新闻 传播 媒体 舆情 艺术 音乐 美术 民族 宗教
        图书馆 档案 情报 科技政策 就业 人口 软科学 评价体系 战略 军事 国防 军队 战争
        """), _en("""
        management, policy, governance, government, public administration, public service, society,
        social, community, culture, history, philosophy, ethics, law, legal, regulation,
        legislation, judicial, court, litigation, rights, economy, economic growth, finance,
        financial, market, business, enterprise, industrial policy, marketing, consumer,
        investment, fiscal, tax, trade, regional economy, urbanization, rural revitalization,
        education, teaching, curriculum, student, university, talent, teacher, sports, athlete,
        psychology, mental health, language, literature, journalism, mass communication, media,
        public opinion, art, music, ethnic, religion, library, archive, science policy, employment,
        population, soft science, strategy, military, defense, war
        """)),
    Field("other", "其他", "Other (basic and earth sciences, miscellaneous)", False, _zh("""
        数学 代数几何 群论 李代数 泛函分析 调和分析 微分几何 拓扑学 组合数学 图论 常微分方程
        偏微分方程 动力系统 数论 概率论 数理统计 随机过程 地质 地层 构造 岩石 矿物 沉积 盆地
        地球化学 地球物理 地震 断裂 气象 气候 气候变化 降水 气温 大气 台风 暴雨 天气预报 海洋
        海洋学 海水 海流 海冰 天文 恒星 星系 宇宙 黑洞 引力波 地理 地貌 土地利用 湖泊 河流 流域
        冰川 古生物 化石 物理 凝聚态 粒子物理 光谱 电离层 磁层
        """), _en("""
        mathematics, algebraic geometry, group theory, lie algebra, functional analysis,
        harmonic analysis, differential geometry, topology, combinatorics, graph theory,
        partial differential equation, dynamical system, number theory, probability theory,
        mathematical statistics, stochastic process, geology, stratigraphy, tectonic, rock,
        mineral, sediment, basin, geochemistry, geophysics, earthquake, seismic, fault,
        meteorology, climate, climate change, precipitation, temperature, atmosphere, typhoon,
        rainstorm, weather forecast, ocean, oceanography, seawater, ocean current, sea ice,
        astronomy, star, galaxy, universe, black hole, gravitational wave, geography, landform,
        land use, lake, river, watershed, glacier, paleontology, fossil, physics, condensed matter,
        particle physics, spectroscopy, ionosphere, magnetosphere, solar wind
        """)),
)


def seed_taxonomy() -> Taxonomy:
    """Return the seed taxonomy (plan priorities plus the broad fields)."""
    return Taxonomy(SEED_FIELDS)


_active: Taxonomy | None = None


def use_taxonomy(path: str | Path | None) -> Taxonomy:
    """Make the taxonomy in ``path`` (or the seed) the platform's (``LUODI_TAXONOMY_FILE``)."""
    global _active
    _active = load_taxonomy(path)
    return _active


def active_taxonomy() -> Taxonomy:
    """The configured taxonomy (the seed until :func:`use_taxonomy` is called)."""
    global _active
    if _active is None:
        _active = seed_taxonomy()  # one object, so callers may cache on its identity
    return _active


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Return the seed taxonomy with the overrides in ``path`` applied (format: module docstring).

    ``None`` gives the seed unchanged. A missing or unreadable file, unknown keys, wrong types or an
    attempt to disable ``other`` raise ``ValidationFailed``.
    """
    if path is None:
        return seed_taxonomy()
    path = Path(path)
    try:
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8")) if path.suffix == ".toml" else json.loads(raw)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ValidationFailed(f"cannot read taxonomy file {path}: {exc}") from exc
    if not isinstance(data, Mapping) or not isinstance(data.get("fields", {}), Mapping):
        raise ValidationFailed("taxonomy file must hold a 'fields' table keyed by field code")
    return _apply(SEED_FIELDS, data.get("fields", {}))


def _apply(seed: tuple[Field, ...], overrides: Mapping[str, Any]) -> Taxonomy:
    fields = {field.code: field for field in seed}
    for code, spec in overrides.items():
        if not isinstance(code, str) or not _CODE.match(code):
            raise ValidationFailed(f"bad field code: {code!r}", data={"field": code})
        if not isinstance(spec, Mapping):
            raise ValidationFailed(f"field {code}: expected a table", data={"field": code})
        unknown = set(spec) - _ALLOWED_KEYS
        if unknown:
            raise ValidationFailed(f"field {code}: unknown keys {sorted(unknown)}",
                                   data={"field": code})
        if spec.get("enabled", True) is False:
            if code == FALLBACK_CODE:
                raise ValidationFailed("the fallback field 'other' cannot be disabled")
            fields.pop(code, None)
            continue
        fields[code] = _merge(code, fields.get(code), spec)
    ordered = [f for f in fields.values() if f.code != FALLBACK_CODE]
    return Taxonomy((*ordered, fields[FALLBACK_CODE]))


def _merge(code: str, base: Field | None, spec: Mapping[str, Any]) -> Field:
    """Return ``base`` with ``spec`` applied, or a new field when ``base`` is ``None``."""
    def text(key: str) -> str | None:
        value = spec.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ValidationFailed(f"field {code}: {key} must be a non-empty string")
        return value.strip() if value else None

    def words(key: str) -> tuple[str, ...] | None:
        value = spec.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValidationFailed(f"field {code}: {key} must be a list of strings")
        return tuple(v.strip() for v in value if v.strip())

    priority = spec.get("priority")
    if priority is not None and not isinstance(priority, bool):
        raise ValidationFailed(f"field {code}: priority must be true or false")
    if spec.get("enabled", True) is not True:
        raise ValidationFailed(f"field {code}: enabled must be true or false")
    if base is None:
        name_zh, name_en = text("name_zh"), text("name_en")
        if name_zh is None or name_en is None:
            raise ValidationFailed(f"new field {code}: name_zh and name_en are required")
        base = Field(code, name_zh, name_en, bool(priority))
    zh = words("keywords_zh")
    en = words("keywords_en")
    return replace(
        base,
        name_zh=text("name_zh") or base.name_zh,
        name_en=text("name_en") or base.name_en,
        priority=base.priority if priority is None else priority,
        keywords_zh=(base.keywords_zh if zh is None else zh) + (words("add_keywords_zh") or ()),
        keywords_en=(base.keywords_en if en is None else en) + (words("add_keywords_en") or ()),
    )
